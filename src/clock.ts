/** The time source, passed in everywhere (CONVENTIONS 3) so tests can move it 20 years ahead. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at `t` that tests can move. */
export function fixedClock(t: Date): Clock & { set(t: Date): void; advance(ms: number): void } {
  let current = new Date(t);
  return {
    now: () => new Date(current),
    set: (x: Date) => {
      current = new Date(x);
    },
    advance: (ms: number) => {
      current = new Date(current.getTime() + ms);
    },
  };
}
