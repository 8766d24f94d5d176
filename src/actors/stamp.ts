// Order-free merge rules shared by the reducers: newest-wins with a deterministic tie-break, and max of dates.

export { compareStamps, isNewer } from '../store/stamps.ts';

export const maxDate = (a: Date | null, b: Date | null): Date | null => (a === null ? b : b === null ? a : a >= b ? a : b);

export const maxDateOr = (a: Date, b: Date | null): Date => (b !== null && b > a ? b : a);

/** Meta's timestamp (Unix seconds as string or number) as a Date, or null when absent or unreadable. */
export function metaTimeToDate(t: string | number | null | undefined): Date | null {
  if (t === null || t === undefined) return null;
  const n = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? new Date(n * 1000) : null;
}
