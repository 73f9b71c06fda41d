/** Shared helpers for the db handler tests: envelopes, error capture, a log sink. */
import { createInvocationContext, createRequestEnvelope, OnexError, type CancellationSignal, type IoAccess, type JsonValue } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { createLogger, type Logger } from '../../../src/logging/logger.js';
import type { DbHandler } from '../../../src/handlers/db/index.js';

const providers = deterministicProviders(1000);

/** Sends one request envelope (with a fresh correlation id) through `handler`. */
export function send(handler: DbHandler, operation: string, payload: JsonValue, correlationId = providers.ids.nextId()): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId }, providers);
  return handler.execute(envelope, createInvocationContext(envelope));
}

/** Like {@link send}, as node `nodeSlug` with its grant and signal (default read_write, like a direct call). */
export function sendAs(
  handler: DbHandler,
  operation: string,
  payload: JsonValue,
  call: { access?: IoAccess; nodeSlug?: string; signal?: CancellationSignal } = {},
): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId: providers.ids.nextId() }, providers);
  return handler.execute(envelope, createInvocationContext(envelope, call));
}

/** The typed error `promise` rejects with; fails the test if it resolves or rejects untyped. */
export async function rejection(promise: Promise<unknown>): Promise<OnexError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnexError) return error;
    throw new Error(`expected an OnexError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject');
}

/** A real pino logger whose JSON lines are kept in memory. */
export function memoryLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}
