import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test, vi } from 'vitest';
import { AppError, isAppError } from '../core/errors.ts';
import { checkUrl, classifyAddress, guardedLookup, resolveAndCheck, type Resolver } from './ssrf-guard.ts';

const PUBLIC_V4 = '93.184.215.14';
const PUBLIC_V6 = '2606:4700::1111';

/** A resolver that answers from a table and never touches the network. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

function refusalOf(e: unknown): { reason: unknown; message: string } {
  if (!isAppError(e)) throw e;
  expect(e.code).toBe('EC_URL_REFUSED');
  expect(e.status).toBe(400);
  expect(e.details?.['parameter']).toBe('url');
  return { reason: e.details?.['reason'], message: e.message };
}

function syncReason(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return refusalOf(e).reason;
  }
  return undefined;
}

async function asyncRefusal(p: Promise<unknown>): Promise<{ reason: unknown; message: string } | undefined> {
  try {
    await p;
  } catch (e) {
    return refusalOf(e);
  }
  return undefined;
}

describe('delivery > ssrf guard > classifyAddress', () => {
  test.each([
    // IPv4
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'reserved'], // broadcast
    ['198.18.0.1', 'reserved'], // benchmarking
    ['198.19.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'], // TEST-NET-1
    ['169.254.169.254', 'metadata'], // AWS / GCP / Azure
    ['169.254.170.2', 'metadata'], // AWS ECS task metadata
    ['100.100.100.200', 'metadata'], // Alibaba
    // IPv6
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fd00:ec2::254', 'metadata'], // AWS IPv6 metadata
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['2001:db8::1', 'reserved'], // documentation
    ['2001:2::1', 'reserved'], // benchmarking
    ['100::1', 'reserved'], // discard
    ['fec0::1', 'reserved'], // deprecated site-local
    ['4000::1', 'reserved'], // outside 2000::/3 global unicast
  ])('%s is refused as %s', (ip, reason) => {
    expect(classifyAddress(ip)).toEqual({ refused: true, reason });
  });

  test.each([
    // IPv4-mapped, dotted and hex
    ['::ffff:127.0.0.1', 'loopback', '127.0.0.1'],
    ['::ffff:7f00:1', 'loopback', '127.0.0.1'],
    ['::ffff:10.0.0.5', 'private', '10.0.0.5'],
    ['::ffff:a9fe:a9fe', 'metadata', '169.254.169.254'],
    ['::ffff:0:127.0.0.1', 'loopback', '127.0.0.1'], // RFC 6145 translated
    // IPv4-compatible
    ['::127.0.0.1', 'loopback', '127.0.0.1'],
    ['::7f00:1', 'loopback', '127.0.0.1'],
    ['::a00:5', 'private', '10.0.0.5'],
    // NAT64
    ['64:ff9b::127.0.0.1', 'loopback', '127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', 'metadata', '169.254.169.254'],
    ['64:ff9b::c0a8:101', 'private', '192.168.1.1'],
    // 6to4
    ['2002:7f00:1::', 'loopback', '127.0.0.1'],
    ['2002:a00:5::1', 'private', '10.0.0.5'],
    ['2002:6464:64c8::1', 'metadata', '100.100.100.200'],
    // Teredo: server in bits 32-63, client XOR ffff:ffff in the last 32 bits
    ['2001:0:a00:5::', 'private', '10.0.0.5'], // server
    ['2001:0:5db8:d70e::80ff:fffe', 'loopback', '127.0.0.1'], // client
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved', '192.0.2.45'], // RFC 4380 example, client in TEST-NET-1
  ])('%s embeds a refused IPv4 and is refused as %s', (ip, reason, embedded) => {
    expect(classifyAddress(ip)).toEqual({ refused: true, reason, embedded });
  });

  test.each([
    '::ffff:93.184.215.14',
    '::5db8:d70e',
    '64:ff9b::5db8:d70e',
    '64:ff9b:1::a00:5', // local-use NAT64: the IPv4 position is the operator's choice
    '2002:5db8:d70e::1',
    '2001:0:5db8:d70e::f7f7:f7f7', // Teredo, server 93.184.215.14, client 8.8.8.8
  ])('%s embeds IPv4 and is refused even when that IPv4 is public', (ip) => {
    expect(classifyAddress(ip)).toEqual({ refused: true, reason: 'ipv4_embedded' });
  });

  test.each([
    ...[PUBLIC_V4, '8.8.8.8', '1.1.1.1', '11.0.0.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.0', '169.253.255.255'],
    ...[PUBLIC_V6, '2001:4860:4860::8888', '2a00:1450:4001::1'],
  ])('%s is permitted', (ip) => {
    expect(classifyAddress(ip)).toEqual({ refused: false });
  });

  test.each(['', 'example.com', '127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '[::1]', '1.2.3.4.5'])(
    '%j is not a canonical address and is refused',
    (ip) => {
      expect(classifyAddress(ip)).toEqual({ refused: true, reason: 'unresolvable' });
    },
  );
});

describe('delivery > ssrf guard > checkUrl', () => {
  test.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
  ])('WHATWG URL normalises the literal %s to %s (what the guard relies on)', (url, hostname) => {
    expect(new URL(url).hostname).toBe(hostname);
  });

  test.each([
    ['https://2130706433/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://0x7f000001/', 'loopback'],
    ['https://127.0.0.1./', 'loopback'],
    ['https://017700000001/', 'loopback'],
    ['https://0xa.0.0.5/', 'private'],
    ['https://0/', 'unspecified'],
    ['https://[::1]/', 'loopback'],
    ['https://[::]/', 'unspecified'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:7f00:1]/', 'loopback'],
    ['https://[::127.0.0.1]/', 'loopback'],
    ['https://[64:ff9b::127.0.0.1]/', 'loopback'],
    ['https://[fd00:ec2::254]/', 'metadata'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata'],
    ['https://0xa9fea9fe/', 'metadata'],
  ])('refuses the IP literal in %s as %s without resolving', (url, reason) => {
    expect(syncReason(() => checkUrl(url))).toBe(reason);
  });

  test.each([
    ['ftp://example.com/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://example.com:70/', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['data:text/plain,hi', 'scheme'],
    ['http://example.com/hook', 'scheme'], // http only for allow-listed hosts
    [`http://${PUBLIC_V4}/hook`, 'scheme'],
    ['https://user:pass@example.com/', 'userinfo'],
    ['https://user@example.com/', 'userinfo'],
    ['https://:pass@example.com/', 'userinfo'],
    ['https://example.com:0/', 'port'],
    ['https://example.com:65536/', 'malformed'], // WHATWG URL rejects it outright
    ['https://localhost/', 'hostname'],
    ['https://LOCALHOST./', 'hostname'],
    ['https://api.localhost/', 'hostname'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'hostname'],
    ['https://metadata.google.internal./', 'hostname'],
    ['https://metadata/', 'hostname'],
    ['https://instance-data.ec2.internal/', 'hostname'],
    ['https://anything.internal/', 'hostname'],
    ['not a url', 'malformed'],
    ['/relative/path', 'malformed'],
  ])('refuses %s as %s', (url, reason) => {
    expect(syncReason(() => checkUrl(url))).toBe(reason);
  });

  test('http to a public literal is refused even with an allow-list', () => {
    expect(syncReason(() => checkUrl(`http://${PUBLIC_V4}/`, { allow: ['127.0.0.1/32'] }))).toBe('scheme');
  });

  test('returns the parsed URL, bare hostname and effective port', () => {
    const a = checkUrl('https://Hooks.Example.com/x?y=1');
    expect([a.url.href, a.hostname, a.port]).toEqual(['https://hooks.example.com/x?y=1', 'hooks.example.com', 443]);
    const b = checkUrl(`https://[${PUBLIC_V6}]:8443/`);
    expect([b.hostname, b.port]).toEqual([PUBLIC_V6, 8443]);
    expect(checkUrl('https://example.com:65535/').port).toBe(65535);
    expect(checkUrl('http://127.0.0.1/', { allow: ['127.0.0.1/32'] }).port).toBe(80);
  });

  test('the error names the problem and carries a stable reason', () => {
    let caught: unknown;
    try {
      checkUrl('https://10.0.0.5/');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).message).toBe('url host 10.0.0.5 is a private address (refused: server-side request forgery guard)');
    expect((caught as AppError).details).toEqual({ parameter: 'url', reason: 'private' });
  });

  test('an allow-list entry that is not a CIDR is a configuration error', () => {
    expect(() => checkUrl('https://example.com/', { allow: ['127.0.0.1'] })).toThrow(
      expect.objectContaining({ code: 'EC_CONFIG_INVALID' }),
    );
    expect(() => checkUrl('https://example.com/', { allow: ['not-a-cidr/8'] })).toThrow(
      expect.objectContaining({ code: 'EC_CONFIG_INVALID' }),
    );
  });
});

describe('delivery > ssrf guard > resolveAndCheck', () => {
  test.each([
    [[PUBLIC_V4], [{ address: PUBLIC_V4, family: 4 }]],
    [[PUBLIC_V6], [{ address: PUBLIC_V6, family: 6 }]],
    [
      [PUBLIC_V6, PUBLIC_V4],
      [
        { address: PUBLIC_V6, family: 6 },
        { address: PUBLIC_V4, family: 4 },
      ],
    ],
  ])('https to a host resolving to %j is allowed and returns the vetted addresses', async (found, addresses) => {
    const resolve = fakeResolver({ 'hooks.example.com': found });
    const target = await resolveAndCheck('https://hooks.example.com/hook', { resolve });
    expect(target.addresses).toEqual(addresses);
    expect(target.hostname).toBe('hooks.example.com');
    expect(resolve.calls).toEqual(['hooks.example.com']);
  });

  test.each([
    [
      [PUBLIC_V4, '10.0.0.5'],
      'private',
      'url host hooks.example.com resolves to a private address (refused: server-side request forgery guard)',
    ],
    [['10.0.0.5', PUBLIC_V4], 'private', /hooks\.example\.com resolves to a private address/],
    [[PUBLIC_V6, 'fd00:ec2::254'], 'metadata', /resolves to a cloud metadata address/],
    [[PUBLIC_V4, '::ffff:7f00:1'], 'loopback', /^url host hooks\.example\.com resolves to a loopback address \(refused/],
    [['169.254.169.254'], 'metadata', /resolves to a cloud metadata address/],
    [['100.64.1.2'], 'cgnat', /carrier-grade NAT/],
    [['not-an-ip'], 'unresolvable', /resolves to something that is not an IP address/],
  ])(
    'a host resolving to %j is refused as %s when ANY address is refused, naming the class but never the address',
    async (found, reason, message) => {
      const r = await asyncRefusal(
        resolveAndCheck('https://hooks.example.com/', { resolve: fakeResolver({ 'hooks.example.com': found }) }),
      );
      expect(r?.reason).toBe(reason);
      expect(r?.message).toMatch(message);
      // The resolved addresses are internal facts: echoed, they would let a caller map internal DNS (issue 16, defect 6).
      for (const a of found) expect(r?.message).not.toContain(a);
      expect(r?.message).not.toMatch(/127\.0\.0\.1/);
    },
  );

  test('an unresolvable host is refused as unresolvable', async () => {
    expect((await asyncRefusal(resolveAndCheck('https://nx.example.com/', { resolve: fakeResolver({}) })))?.reason).toBe('unresolvable');
    const resolve = fakeResolver({ 'empty.example.com': [] });
    expect((await asyncRefusal(resolveAndCheck('https://empty.example.com/', { resolve })))?.reason).toBe('unresolvable');
  });

  test('IP literals and refused names never reach the resolver', async () => {
    const resolve = fakeResolver({});
    const target = await resolveAndCheck(`https://[${PUBLIC_V6}]/`, { resolve });
    expect(target.addresses).toEqual([{ address: PUBLIC_V6, family: 6 }]);
    expect((await asyncRefusal(resolveAndCheck('https://localhost/', { resolve })))?.reason).toBe('hostname');
    expect((await asyncRefusal(resolveAndCheck('http://hooks.example.com/', { resolve })))?.reason).toBe('scheme');
    expect(resolve.calls).toEqual([]);
  });

  describe('allow-list 127.0.0.1/32', () => {
    const allow = ['127.0.0.1/32'];
    const resolve = fakeResolver({
      'receiver.test': ['127.0.0.1'],
      'other.test': ['127.0.0.2'],
      'private.test': ['10.0.0.1'],
      'public.test': [PUBLIC_V4],
      'mixed.test': ['127.0.0.1', '10.0.0.1'],
      'mapped.test': ['::ffff:127.0.0.1'],
    });

    test('permits 127.0.0.1, over http too', async () => {
      const target = await resolveAndCheck('http://127.0.0.1:8080/hook', { allow, resolve });
      expect([target.addresses, target.port]).toEqual([[{ address: '127.0.0.1', family: 4 }], 8080]);
      expect((await resolveAndCheck('http://receiver.test:8080/', { allow, resolve })).addresses).toEqual([
        { address: '127.0.0.1', family: 4 },
      ]);
      expect((await resolveAndCheck('https://receiver.test/', { allow, resolve })).addresses).toEqual([
        { address: '127.0.0.1', family: 4 },
      ]);
    });

    test.each([
      ['http://127.0.0.2/', 'loopback'],
      ['https://127.0.0.2/', 'loopback'],
      ['http://10.0.0.1/', 'private'],
      ['https://10.0.0.1/', 'private'],
      ['http://other.test/', 'loopback'],
      ['http://private.test/', 'private'],
      ['http://mixed.test/', 'private'],
      ['http://mapped.test/', 'loopback'], // same family only: 127.0.0.1/32 does not exempt ::ffff:127.0.0.1
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://public.test/', 'scheme'], // public, but http is only for allow-listed hosts
      ['http://localhost/', 'hostname'], // names are not exempt, addresses are
    ])('does not permit %s (%s)', async (url, reason) => {
      expect((await asyncRefusal(resolveAndCheck(url, { allow, resolve })))?.reason).toBe(reason);
    });

    test('https to a public host is unaffected', async () => {
      expect((await resolveAndCheck('https://public.test/', { allow, resolve })).addresses).toEqual([{ address: PUBLIC_V4, family: 4 }]);
    });
  });
});

describe('delivery > ssrf guard > guardedLookup', () => {
  type Answer = { err: Error | null; address: unknown; family?: number | undefined };
  const lookupOnce = (lookup: ReturnType<typeof guardedLookup>, host: string, options: object) =>
    new Promise<Answer>((done) => lookup(host, options, (err, address, family) => done({ err, address, family })));

  test('answers in both callback shapes, honouring family', async () => {
    const lookup = guardedLookup({ resolve: fakeResolver({ 'hooks.example.com': [PUBLIC_V6, PUBLIC_V4] }) });
    expect(await lookupOnce(lookup, 'hooks.example.com', {})).toEqual({ err: null, address: PUBLIC_V6, family: 6 });
    expect(await lookupOnce(lookup, 'hooks.example.com', { family: 4 })).toEqual({ err: null, address: PUBLIC_V4, family: 4 });
    expect(await lookupOnce(lookup, 'hooks.example.com', { all: true })).toEqual({
      err: null,
      address: [
        { address: PUBLIC_V6, family: 6 },
        { address: PUBLIC_V4, family: 4 },
      ],
      family: undefined,
    });
    expect(await lookupOnce(lookup, 'hooks.example.com', { all: true, family: 'IPv6' })).toEqual({
      err: null,
      address: [{ address: PUBLIC_V6, family: 6 }],
      family: undefined,
    });
  });

  test('a host without an address of the wanted family fails as unresolvable', async () => {
    const lookup = guardedLookup({ resolve: fakeResolver({ 'v6only.example.com': [PUBLIC_V6] }) });
    expect(refusalOf((await lookupOnce(lookup, 'v6only.example.com', { family: 4 })).err).reason).toBe('unresolvable');
  });

  test('re-resolves at connect time: DNS rebinding after the check is refused', async () => {
    const answers = [[PUBLIC_V4], ['169.254.169.254']];
    const resolve: Resolver = vi.fn(async () => answers.shift()!.map((address) => ({ address, family: 4 })));
    const target = await resolveAndCheck('https://rebind.example.com/', { resolve });
    expect(target.addresses).toEqual([{ address: PUBLIC_V4, family: 4 }]);
    const answer = await lookupOnce(guardedLookup({ resolve }), 'rebind.example.com', { all: true });
    expect(refusalOf(answer.err).reason).toBe('metadata');
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  // The lookup belongs on the Agent: a keep-alive agent shared across lookups would hand back a pooled socket unchecked.
  test('works as new http.Agent({ lookup }) and refuses before connecting', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const { port } = server.address() as AddressInfo;
    const get = (host: string, lookup: ReturnType<typeof guardedLookup>) =>
      new Promise<string>((done, fail) => {
        request({ host, port, path: '/', agent: new Agent({ lookup }) }, (res) => {
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (c: string) => (body += c)).on('end', () => done(body));
        })
          .on('error', fail)
          .end();
      });
    try {
      const resolve = fakeResolver({ 'receiver.test': ['127.0.0.1'] });
      expect(await get('receiver.test', guardedLookup({ allow: ['127.0.0.1/32'], resolve }))).toBe('ok');
      const refused = await get('receiver.test', guardedLookup({ resolve })).catch((e: unknown) => e);
      expect(refusalOf(refused).reason).toBe('loopback');
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });
});
