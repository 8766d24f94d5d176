// A circuit breaker per endpoint, in the memory of each delivery process, so that one failing endpoint costs the
// others nothing: after `failures` slow failures in a row (timeouts and connection errors: the worker counts those
// only, since a quick 4xx/5xx answer costs it nothing) the circuit opens, and for `cooldownMs` that endpoint's
// attempts are not sent but deferred (queued again for when it closes; no attempt is counted, so its deliveries
// keep their five retries). Then one attempt goes through as a probe (half-open): a success closes the circuit, a
// failure opens it again. Without it, an endpoint that times out makes every one of its deliveries wait the full
// timeout on the partition it shares with other customers (../shared/docs/outbound-webhooks.md §0.10; Convoy opens
// per endpoint on the failure rate, Svix has none). Pure apart from the state it keeps; the clock is an input.
export type BreakerOptions = Readonly<{ failures: number; cooldownMs: number }>;

type State = { failed: number; openUntil: number | null; probing: boolean; probeSince: number };

export type Admission = { send: true } | { send: false; until: number };

export function createBreakers(opts: BreakerOptions, max = 50_000) {
  const states = new Map<string, State>();
  const stateOf = (id: string): State => {
    let s = states.get(id);
    if (!s) {
      if (states.size >= max) states.delete(states.keys().next().value!); // oldest first: a bounded memory
      s = { failed: 0, openUntil: null, probing: false, probeSince: 0 };
      states.set(id, s);
    }
    return s;
  };
  return {
    /** May an attempt to `endpointId` be sent at `now`? Open: not before `until`. Half-open: one probe at a time
     *  (a probe with no outcome after a cooldown, its worker gone, lets another through). */
    admit(endpointId: string, now: number): Admission {
      const s = states.get(endpointId);
      if (!s || s.openUntil === null) return { send: true };
      if (now < s.openUntil) return { send: false, until: s.openUntil };
      if (s.probing && now - s.probeSince < opts.cooldownMs) return { send: false, until: s.probeSince + opts.cooldownMs };
      s.probing = true;
      s.probeSince = now;
      return { send: true };
    },
    /** The outcome of an attempt that was sent. */
    record(endpointId: string, ok: boolean, now: number): void {
      if (ok) {
        states.delete(endpointId);
        return;
      }
      const s = stateOf(endpointId);
      s.failed++;
      if (s.probing || s.failed >= opts.failures) {
        s.openUntil = now + opts.cooldownMs;
        s.probing = false;
      }
    },
    /** Open circuits, for the logs. */
    isOpen: (endpointId: string, now: number): boolean => {
      const s = states.get(endpointId);
      return s !== undefined && s.openUntil !== null && (now < s.openUntil || s.probing);
    },
  };
}

export type Breakers = ReturnType<typeof createBreakers>;
