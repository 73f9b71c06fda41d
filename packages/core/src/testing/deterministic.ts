import type { Clock, IdProvider } from '../envelope/providers.js';

/**
 * Predictable UUIDs for tests: `seed + 1`, `seed + 2`, ... rendered as the last hex
 * digits of an otherwise zero UUID (like Python's `UUID(int=n)`).
 */
export class DeterministicIdGenerator implements IdProvider {
  #counter: number;

  /** @param seed first id is `seed + 1`. @default 42 */
  constructor(seed = 42) {
    this.#counter = seed;
  }

  nextId(): string {
    this.#counter += 1;
    const hex = this.#counter.toString(16).padStart(32, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** A clock that only moves when told to. */
export class DeterministicClock implements Clock {
  #now: number;

  /** @param start @default 2024-01-01T00:00:00.000Z */
  constructor(start: Date | string = '2024-01-01T00:00:00.000Z') {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

/** Both deterministic providers, ready to pass where `EnvelopeProviders` is wanted. */
export function deterministicProviders(seed = 42, start?: Date | string): { ids: DeterministicIdGenerator; clock: DeterministicClock } {
  return { ids: new DeterministicIdGenerator(seed), clock: new DeterministicClock(start) };
}
