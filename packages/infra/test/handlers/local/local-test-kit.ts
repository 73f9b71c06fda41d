/** The few helpers the LocalHandler tests share: a fixed correlation id, a request builder, an error catcher. */
import { createRequestEnvelope, isOnexError, type OnexEnvelope, type OnexError, type RequestEnvelopeInit } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';

export const CORRELATION_ID = '11111111-2222-4333-8444-555555555555';

/** A request envelope built with its own deterministic providers. */
export function request(init: RequestEnvelopeInit): OnexEnvelope {
  return createRequestEnvelope(init, deterministicProviders());
}

/** Awaits `fn` and returns the OnexError it throws; fails the test otherwise. */
export async function catchOnexErrorAsync(fn: () => Promise<unknown>): Promise<OnexError> {
  try {
    await fn();
  } catch (error) {
    if (isOnexError(error)) return error;
    throw new Error(`expected an OnexError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an OnexError to be thrown, but nothing was thrown');
}
