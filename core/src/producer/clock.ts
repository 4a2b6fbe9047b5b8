/**
 * Where the producer reads the time: record timestamps (when a record has
 * none), batch creation, linger, backoff and delivery deadlines. Register
 * another under CLOCK to control them (a test's fake clock, a clock synced
 * elsewhere). Timers still run on the event loop's real time.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
