/**
 * Small shared helpers for the @onex/core unit tests: deterministic providers, a
 * request builder and a deep freeze that makes any mutation throw.
 */
import { createRequestEnvelope, isOnexError, type OnexEnvelope, type OnexError, type RequestEnvelopeInit } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';

/** The first ids `DeterministicIdGenerator(42)` hands out. */
export const ID_1 = '00000000-0000-0000-0000-00000000002b';
export const ID_2 = '00000000-0000-0000-0000-00000000002c';
export const ID_3 = '00000000-0000-0000-0000-00000000002d';
/** `DeterministicClock`'s default start. */
export const T0 = '2024-01-01T00:00:00.000Z';

export const CORRELATION_ID = '11111111-2222-4333-8444-555555555555';

/** Fresh deterministic providers (seed 42, clock at `T0`). */
export function providers() {
  return deterministicProviders();
}

/** A request envelope built with its own deterministic providers (its id is `ID_1`). */
export function request(init: RequestEnvelopeInit): OnexEnvelope {
  return createRequestEnvelope(init, providers());
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/** Runs `fn` and returns the OnexError it throws; fails the test when it throws nothing or something else. */
export function catchOnexError(fn: () => unknown): OnexError {
  try {
    fn();
  } catch (error) {
    if (isOnexError(error)) return error;
    throw new Error(`expected an OnexError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an OnexError to be thrown, but nothing was thrown');
}

/** Like `catchOnexError` for async functions. */
export async function catchOnexErrorAsync(fn: () => Promise<unknown>): Promise<OnexError> {
  try {
    await fn();
  } catch (error) {
    if (isOnexError(error)) return error;
    throw new Error(`expected an OnexError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an OnexError to be thrown, but nothing was thrown');
}
