// Order-free merge rules shared by the reducers: newest-wins with a deterministic tie-break, and max of dates.
import { type Stamp } from '../store/docs.ts';

/** Orders anything stamped by Meta time, then by event id (code units, so every machine agrees). */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.at.getTime() - b.at.getTime() || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}

/** True when stamp `a` is newer than `b` (later time; on a tie, the larger event id), or `b` is absent. */
export function isNewer(a: Stamp, b: Stamp | null): boolean {
  return b === null || compareStamps(a, b) > 0;
}

export const maxDate = (a: Date | null, b: Date | null): Date | null => (a === null ? b : b === null ? a : a >= b ? a : b);

export const maxDateOr = (a: Date, b: Date | null): Date => (b !== null && b > a ? b : a);

/** Meta's timestamp (Unix seconds as string or number) as a Date, or null when absent or unreadable. */
export function metaTimeToDate(t: string | number | null | undefined): Date | null {
  if (t === null || t === undefined) return null;
  const n = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? new Date(n * 1000) : null;
}
