// Time is injected so that pure code and tests never read the wall clock directly.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
