// Sends per second per phone number (Meta's throughput tier): each take reserves the next free slot, 1/perSecond
// apart, and waits for it; a rate-limit answer from Meta pauses the number, moving every later slot past the pause.
// Per process: processes sharing a number each keep the rate, so the tier is split by configuration (or Meta's
// 130429 answers pause each of them).
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock } from '../core/clock.ts';

export function createThrottle(perSecond: number, clock: Clock) {
  const gap = 1000 / perSecond;
  const next = new Map<string, number>();
  return {
    /** The wait (ms) before this send may go, its slot reserved. */
    reserve(phone: string): number {
      const now = clock.now().getTime();
      const slot = Math.max(now, next.get(phone) ?? 0);
      next.set(phone, slot + gap);
      return slot - now;
    },
    async take(phone: string): Promise<void> {
      const wait = this.reserve(phone);
      if (wait > 0) await sleep(wait);
    },
    /** No send from this number before `ms` from now. */
    pause(phone: string, ms: number): void {
      next.set(phone, Math.max(next.get(phone) ?? 0, clock.now().getTime() + ms));
    },
  };
}
