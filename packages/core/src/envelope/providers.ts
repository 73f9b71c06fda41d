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

/** Wall-clock time. */
export const systemClock: Clock = { now: () => new Date() };

export const defaultProviders: EnvelopeProviders = Object.freeze({ ids: randomIdProvider, clock: systemClock });
