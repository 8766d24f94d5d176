// Newest-wins order of stamped values (Meta time, then event id), shared by the actors and the views.
import { type Stamp } from './docs.ts';

/** Orders anything stamped by Meta time, then by event id (code units, so every machine agrees). */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.at.getTime() - b.at.getTime() || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}

/** True when stamp `a` is newer than `b` (later time; on a tie, the larger event id), or `b` is absent. */
export function isNewer(a: Stamp, b: Stamp | null): boolean {
  return b === null || compareStamps(a, b) > 0;
}
