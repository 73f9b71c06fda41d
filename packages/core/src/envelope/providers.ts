/**
 * Ids and time come in through these small providers so that core stays pure and
 * tests are deterministic (see `@onex/core/testing` for the deterministic ones).
 */
export interface IdProvider {
  /** A new lower-case UUID string. */
  nextId(): string;
}

export interface Clock {
  now(): Date;
  /**
   * The current time as ISO-8601 UTC text. Optional: clocks that can produce it faster
   * than `now().toISOString()` (the system clock caches it per millisecond) provide it.
   */
  nowIso?(): string;
}

/** ISO-8601 UTC text of the clock's current time. */
export function isoNow(clock: Clock): string {
  return clock.nowIso ? clock.nowIso() : clock.now().toISOString();
}

export interface EnvelopeProviders {
  readonly ids: IdProvider;
  readonly clock: Clock;
}

// Declared locally because core compiles without DOM or Node type libraries; the Web
// Crypto global exists on every runtime we support (Node >= 20, browsers, workers).
declare const crypto: { randomUUID(): string };

/** Random v4 UUIDs from the platform's Web Crypto. */
export const randomIdProvider: IdProvider = { nextId: () => crypto.randomUUID() };

let lastMs = -1;
let lastIso = '';

/**
 * Wall-clock time. Formatting a Date costs more than the rest of building an
 * envelope, and envelopes come many per millisecond, so the text is reused within one.
 */
export const systemClock: Clock = {
  now: () => new Date(),
  nowIso: () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  },
};

export const defaultProviders: EnvelopeProviders = Object.freeze({ ids: randomIdProvider, clock: systemClock });
