// Server-side request forgery guard for outbound webhooks: a customer's URL may only lead EchoCue to a public address.
// checkUrl vets the URL text, resolveAndCheck also resolves the host and vets every address, and guardedLookup gives
// node:http / undici a `lookup` that re-resolves and re-vets at connect time, so DNS rebinding between the check and
// the connect cannot slip a private address in. classifyAddress is the pure policy; DNS is injected.
import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../core/errors.ts';

/** Stable short names for why a URL was refused; they go to `details.reason`. */
export type RefusalReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'unique_local'
  | 'metadata'
  | 'ipv4_embedded'
  | 'scheme'
  | 'userinfo'
  | 'port'
  | 'hostname'
  | 'unresolvable'
  | 'malformed';

export type Classification = {
  refused: boolean;
  reason?: RefusalReason;
  /** The IPv4 address carried inside an IPv6 one, when that is what got it refused. */
  embedded?: string;
};
export type VettedAddress = { address: string; family: 4 | 6 };
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;
export type GuardOptions = {
  /** CIDRs permitted even inside a refused range (e.g. `['127.0.0.1/32']` for tests); also the only hosts `http:` may reach. */
  readonly allow?: readonly string[];
  readonly resolve?: Resolver;
};
export type CheckedUrl = { url: URL; hostname: string; port: number };
export type VettedTarget = CheckedUrl & { addresses: readonly VettedAddress[] };

const defaultResolve: Resolver = (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' });

// Cloud instance-metadata endpoints: AWS (IPv4, ECS task, IPv6), GCP/Azure share 169.254.169.254, Alibaba.
const METADATA = new Set(
  ['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254'].map((a) => ipaddr.parse(a).toNormalizedString()),
);
const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'instance-data']);
const BLOCKED_SUFFIXES = ['.localhost', '.internal']; // .internal: private-use TLD, home of metadata.google.internal

const V4_REASONS: Partial<Record<string, RefusalReason>> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link_local',
  carrierGradeNat: 'cgnat',
  multicast: 'multicast',
  unspecified: 'unspecified',
};
const V6_REASONS: Partial<Record<string, RefusalReason>> = {
  loopback: 'loopback',
  linkLocal: 'link_local',
  uniqueLocal: 'unique_local',
  multicast: 'multicast',
  unspecified: 'unspecified',
};
const GLOBAL_UNICAST_V6: [ipaddr.IPv6, number] = ipaddr.IPv6.parseCIDR('2000::/3');

type AddressReason = Exclude<RefusalReason, 'scheme' | 'userinfo' | 'port' | 'hostname' | 'unresolvable' | 'malformed'>;
const PHRASES: Record<AddressReason, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  link_local: 'a link-local address',
  cgnat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved or special-purpose address',
  unique_local: 'an IPv6 unique-local address',
  metadata: 'a cloud metadata address',
  ipv4_embedded: 'an IPv6 address embedding IPv4',
};

function refusal(message: string, reason: RefusalReason, cause?: unknown): AppError {
  return new AppError('EC_URL_REFUSED', `${message} (refused: server-side request forgery guard)`, {
    details: { parameter: 'url', reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function v4FromParts(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function classifyV4(ip: ipaddr.IPv4): Classification {
  if (METADATA.has(ip.toNormalizedString())) return { refused: true, reason: 'metadata' };
  const range = ip.range();
  if (range === 'unicast') return { refused: false };
  return { refused: true, reason: V4_REASONS[range] ?? 'reserved' }; // broadcast, 198.18/15, 240/4, TEST-NETs, ...
}

/** IPv4 addresses carried inside an IPv6 one, or undefined when it carries none; [] when it does but they can't be located. */
function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = ip.parts;
  switch (ip.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return [v4FromParts(p[6]!, p[7]!)];
    case 'rfc6052': // NAT64 64:ff9b::/96; the local-use 64:ff9b:1::/48 places the IPv4 where its operator chose
      return p[2] === 0 ? [v4FromParts(p[6]!, p[7]!)] : [];
    case '6to4': // 2002:AABB:CCDD::/48
      return [v4FromParts(p[1]!, p[2]!)];
    case 'teredo': // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff>
      return [v4FromParts(p[2]!, p[3]!), v4FromParts(p[6]! ^ 0xffff, p[7]! ^ 0xffff)];
    case 'unicast': // IPv4-compatible ::a.b.c.d (deprecated); :: and ::1 have ranges of their own
      return p.slice(0, 6).every((x) => x === 0) ? [v4FromParts(p[6]!, p[7]!)] : undefined;
    default:
      return undefined;
  }
}

function classifyV6(ip: ipaddr.IPv6): Classification {
  if (METADATA.has(ip.toNormalizedString())) return { refused: true, reason: 'metadata' };
  const embedded = embeddedV4(ip);
  if (embedded) {
    // Always refused: the hop to the embedded IPv4 happens outside our control. Name the inner problem when there is one.
    for (const v4 of embedded) {
      const inner = classifyV4(v4);
      if (inner.refused) return { refused: true, reason: inner.reason!, embedded: v4.toString() };
    }
    return { refused: true, reason: 'ipv4_embedded' };
  }
  const range = ip.range();
  if (range === 'unicast') return ip.match(GLOBAL_UNICAST_V6) ? { refused: false } : { refused: true, reason: 'reserved' };
  return { refused: true, reason: V6_REASONS[range] ?? 'reserved' }; // documentation, benchmarking, discard, site-local, ...
}

/** Pure policy: is this IP address (canonical text, as a resolver returns it) one EchoCue must never connect to? */
export function classifyAddress(ip: string): Classification {
  const family = isIP(ip); // canonical forms only; '127.1' or '0x7f.0.0.1' from a resolver is refused, not interpreted
  if (family === 0) return { refused: true, reason: 'unresolvable' };
  return family === 4 ? classifyV4(ipaddr.IPv4.parse(ip)) : classifyV6(ipaddr.IPv6.parse(ip));
}

function parseAllow(allow: readonly string[] = []): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  return allow.map((cidr) => {
    try {
      return ipaddr.parseCIDR(cidr);
    } catch (cause) {
      const message = `ssrf guard allow-list entry ${JSON.stringify(cidr)} is not a CIDR`;
      throw new AppError('EC_CONFIG_INVALID', message, { cause, details: { parameter: 'allow' } });
    }
  });
}

/** Same-family match only: 127.0.0.1/32 does not exempt ::ffff:127.0.0.1. */
function isAllowed(address: string, allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]): boolean {
  const ip = ipaddr.parse(address);
  return allow.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

function vet(hostname: string, address: string, allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]): VettedAddress {
  const verdict = classifyAddress(address);
  if (verdict.reason === 'unresolvable') {
    // What a name resolves to is an internal fact: it is never echoed to the caller (a way to map internal DNS).
    throw refusal(
      hostname === address
        ? `url host ${hostname} is not an IP address`
        : `url host ${hostname} resolves to something that is not an IP address`,
      'unresolvable',
    );
  }
  if (verdict.refused && !isAllowed(address, allow)) {
    const reason = verdict.reason as AddressReason;
    const embeds = verdict.embedded ? `embeds ${verdict.embedded}, ` : '';
    // A literal is the caller's own text and may be named; a resolved address is not (see above).
    const message =
      hostname === address
        ? `url host ${address} ${embeds || 'is '}${PHRASES[reason]}`
        : `url host ${hostname} resolves to ${PHRASES[reason]}`;
    throw refusal(message, reason);
  }
  return { address, family: isIP(address) as 4 | 6 };
}

function checkHostname(hostname: string): void {
  const name = hostname.replace(/\.+$/, '');
  if (name === '' || BLOCKED_NAMES.has(name) || BLOCKED_SUFFIXES.some((s) => name.endsWith(s))) {
    throw refusal(`url host ${JSON.stringify(hostname)} is an internal name`, 'hostname');
  }
}

/** Resolves (unless an IP literal) and vets every address; refuses if ANY is refused. */
async function vetHost(
  hostname: string,
  allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][],
  resolve: Resolver,
): Promise<VettedAddress[]> {
  if (isIP(hostname)) return [vet(hostname, hostname, allow)];
  checkHostname(hostname);
  let found: readonly LookupAddress[];
  try {
    found = await resolve(hostname);
  } catch (cause) {
    throw refusal(`url host ${hostname} does not resolve`, 'unresolvable', cause);
  }
  if (found.length === 0) throw refusal(`url host ${hostname} does not resolve`, 'unresolvable');
  return found.map((a) => vet(hostname, a.address, allow));
}

/**
 * Vets the URL text without I/O: scheme, userinfo, port, internal names, and IP-literal hosts (WHATWG URL has already
 * turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1). `http:` passes only with an allow-list, and for a
 * literal only when allow-listed; resolveAndCheck then demands every resolved address be allow-listed.
 */
export function checkUrl(raw: string, opts: GuardOptions = {}): CheckedUrl {
  const allow = parseAllow(opts.allow);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw refusal('url is not a valid absolute URL', 'malformed', cause);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refusal(`url scheme ${url.protocol} is not https:`, 'scheme');
  if (url.username !== '' || url.password !== '') throw refusal('url must not carry user:password@', 'userinfo');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw refusal(`url port ${url.port} is outside 1-65535`, 'port');
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(hostname)) vet(hostname, hostname, allow);
  else checkHostname(hostname);
  if (url.protocol === 'http:' && (allow.length === 0 || (isIP(hostname) && !isAllowed(hostname, allow)))) {
    throw refusal('url scheme http: is only permitted for allow-listed hosts; use https:', 'scheme');
  }
  return { url, hostname, port };
}

/** checkUrl, then resolve the host and vet every address. Connect to one of `addresses` (or use guardedLookup). */
export async function resolveAndCheck(raw: string, opts: GuardOptions = {}): Promise<VettedTarget> {
  const checked = checkUrl(raw, opts);
  const allow = parseAllow(opts.allow);
  const addresses = await vetHost(checked.hostname, allow, opts.resolve ?? defaultResolve);
  if (checked.url.protocol === 'http:' && !addresses.every((a) => isAllowed(a.address, allow))) {
    throw refusal(`url scheme http: is only permitted for allow-listed hosts and ${checked.hostname} is not one; use https:`, 'scheme');
  }
  return { ...checked, addresses };
}

/**
 * A `lookup` for `new http.Agent({ lookup })` / `https.Agent`, undici `new Agent({ connect: { lookup } })` or
 * `http.request({ lookup, agent: false })`: re-resolves and re-vets at connect time, yields only permitted addresses and
 * fails the connect with the AppError otherwise. Put it on the agent: a keep-alive agent reuses pooled sockets unchecked.
 */
export function guardedLookup(opts: GuardOptions = {}): LookupFunction {
  const allow = parseAllow(opts.allow);
  const resolve = opts.resolve ?? defaultResolve;
  return (hostname, options, callback) => {
    const family = options?.family === 'IPv4' ? 4 : options?.family === 'IPv6' ? 6 : options?.family || 0;
    vetHost(hostname, allow, resolve).then(
      (vetted) => {
        const wanted = family === 0 ? vetted : vetted.filter((a) => a.family === family);
        const first = wanted[0];
        if (!first) callback(refusal(`url host ${hostname} has no IPv${family} address`, 'unresolvable'), '');
        else if (options?.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}
