import { describe, expect, it } from 'vitest';
import {
  EnvelopeValidationError,
  HandlerExecutionError,
  INVALID_ENVELOPE_OPERATION,
  createErrorResponse,
  createInvalidEnvelopeResponse,
  createRequestEnvelope,
  createSuccessResponse,
  parseEnvelope,
  salvageIdentity,
  serializeEnvelope,
  toOnexError,
  isOnexError,
  type OnexEnvelope,
} from '@onex/core';
import { CORRELATION_ID, ID_1, ID_2, T0, providers } from './helpers.js';

const REQUEST_ID = '0a0a0a0a-0000-4000-8000-000000000001';

function sampleRequest(overrides: Partial<OnexEnvelope> = {}): OnexEnvelope {
  return {
    envelopeId: REQUEST_ID,
    envelopeVersion: '1.0.0',
    correlationId: CORRELATION_ID,
    sourceNode: 'gateway',
    targetNode: 'user_service',
    handlerType: 'db',
    operation: 'query',
    payload: { sql: 'SELECT 1' },
    metadata: { trace: 't-1' },
    timestamp: '2023-12-31T23:59:00.000Z',
    isResponse: false,
    ...overrides,
  };
}

/** Asserts the JSON text carries no stack trace or cause chain. */
function expectNoStack(envelope: OnexEnvelope): void {
  const text = serializeEnvelope(envelope);
  expect(text).not.toContain('stack');
  expect(text).not.toContain('"cause"');
  expect(text).not.toMatch(/\bat \S+ \(|\bat .*:\d+:\d+/);
  expect(text).not.toContain('.ts:');
  expect(text).not.toContain('.js:');
}

describe('createRequestEnvelope', () => {
  it('builds a request with a fresh deterministic id and timestamp', () => {
    expect(createRequestEnvelope({ operation: 'local.echo', payload: { hello: 'world' } }, providers())).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: undefined,
      causationId: undefined,
      sourceNode: undefined,
      targetNode: undefined,
      handlerType: undefined,
      operation: 'local.echo',
      payload: { hello: 'world' },
      metadata: {},
      timestamp: T0,
      isResponse: false,
      ttlSeconds: undefined,
    });
  });

  it('carries every field it is given', () => {
    const p = providers();
    p.clock.advance(5);
    expect(
      createRequestEnvelope(
        {
          operation: 'query',
          payload: [1, 2],
          handlerType: 'db',
          targetNode: 'user_service',
          sourceNode: 'gateway',
          correlationId: CORRELATION_ID,
          causationId: REQUEST_ID,
          metadata: { tenant_id: 'acme' },
          ttlSeconds: 10,
        },
        p,
      ),
    ).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: CORRELATION_ID,
      causationId: REQUEST_ID,
      sourceNode: 'gateway',
      targetNode: 'user_service',
      handlerType: 'db',
      operation: 'query',
      payload: [1, 2],
      metadata: { tenant_id: 'acme' },
      timestamp: '2024-01-01T00:00:05.000Z',
      isResponse: false,
      ttlSeconds: 10,
    });
  });

  it('never invents a correlation id', () => {
    expect(createRequestEnvelope({ operation: 'echo' }, providers()).correlationId).toBeUndefined();
  });

  it('uses random v4 UUIDs and the system clock by default', () => {
    const a = createRequestEnvelope({ operation: 'echo' });
    const b = createRequestEnvelope({ operation: 'echo' });
    expect(a.envelopeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.envelopeId).not.toBe(b.envelopeId);
    expect(Number.isNaN(Date.parse(a.timestamp))).toBe(false);
    expect(a.timestamp.endsWith('Z')).toBe(true);
  });
});

describe('createSuccessResponse', () => {
  it('is the exact expected response', () => {
    const p = providers();
    p.clock.advance(1);
    expect(createSuccessResponse(sampleRequest(), { rows: [{ one: 1 }] }, p)).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: CORRELATION_ID,
      causationId: REQUEST_ID,
      sourceNode: 'user_service',
      targetNode: 'gateway',
      handlerType: 'db',
      operation: 'query',
      payload: { rows: [{ one: 1 }] },
      metadata: { trace: 't-1', original_target_node: 'user_service' },
      timestamp: '2024-01-01T00:00:01.000Z',
      isResponse: true,
      success: true,
    });
  });

  it('gets a new envelope_id each time, different from the request', () => {
    const p = providers();
    const req = sampleRequest();
    const a = createSuccessResponse(req, null, p);
    const b = createSuccessResponse(req, null, p);
    expect([a.envelopeId, b.envelopeId]).toEqual([ID_1, ID_2]);
    expect(a.envelopeId).not.toBe(req.envelopeId);
  });

  it('keeps an original_target_node that is already set', () => {
    const req = sampleRequest({ metadata: { original_target_node: 'first_hop' } });
    expect(createSuccessResponse(req, {}, providers()).metadata).toEqual({ original_target_node: 'first_hop' });
  });

  it('adds no original_target_node when the request had no target node', () => {
    const req = sampleRequest({ targetNode: undefined, metadata: {} });
    expect(createSuccessResponse(req, {}, providers()).metadata).toEqual({});
  });

  it('leaves the correlation id absent when the request had none', () => {
    const res = createSuccessResponse(sampleRequest({ correlationId: undefined }), {}, providers());
    expect(res.correlationId).toBeUndefined();
  });

  it('does not touch the request metadata object', () => {
    const req = sampleRequest();
    createSuccessResponse(req, {}, providers());
    expect(req.metadata).toEqual({ trace: 't-1' });
  });
});

describe('createErrorResponse', () => {
  it('matches the spec error envelope for a handler failure', () => {
    const p = providers();
    const cause = new Error('ECONNREFUSED 10.0.0.5:5432');
    const error = new HandlerExecutionError('Database connection failed', { handlerType: 'db', operation: 'query', cause });
    const res = createErrorResponse(sampleRequest(), error, p);
    expect(res).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: CORRELATION_ID,
      causationId: REQUEST_ID,
      sourceNode: 'user_service',
      targetNode: 'gateway',
      handlerType: 'db',
      operation: 'query',
      payload: null,
      metadata: { trace: 't-1', original_target_node: 'user_service' },
      timestamp: T0,
      isResponse: true,
      success: false,
      error: { code: 'HANDLER_EXECUTION_ERROR', message: 'Database connection failed', handler_type: 'db', operation: 'query', retryable: false },
    });
    expectNoStack(res);
    expect(serializeEnvelope(res)).not.toContain('ECONNREFUSED');
  });

  it('wire form has the spec fields: is_response true, success false, payload null, causation = request id', () => {
    const res = createErrorResponse(sampleRequest(), new HandlerExecutionError('Database connection failed'), providers());
    const wire = JSON.parse(serializeEnvelope(res));
    expect(wire).toMatchObject({
      envelope_id: ID_1,
      correlation_id: CORRELATION_ID,
      causation_id: REQUEST_ID,
      is_response: true,
      success: false,
      payload: null,
      metadata: { original_target_node: 'user_service' },
      error: { code: 'HANDLER_EXECUTION_ERROR', message: 'Database connection failed', handler_type: 'db', operation: 'query' },
    });
  });

  it('fills handler_type and operation from the request when the error does not name them', () => {
    const res = createErrorResponse(sampleRequest(), new HandlerExecutionError('boom'), providers());
    expect(res.error).toMatchObject({ handler_type: 'db', operation: 'query' });
  });

  it('keeps handler_type and operation the error names', () => {
    const error = new HandlerExecutionError('boom', { handlerType: 'http', operation: 'http.get' });
    expect(createErrorResponse(sampleRequest(), error, providers()).error).toMatchObject({ handler_type: 'http', operation: 'http.get' });
  });

  it('accepts a plain error body and does not mutate it', () => {
    const body = { code: 'HANDLER_NOT_FOUND', message: "No handler registered for type 'vault'", handler_type: 'vault', available_handlers: ['db', 'http'] };
    const res = createErrorResponse(sampleRequest(), body, providers());
    expect(res.error).toEqual({ ...body, operation: 'query' });
    expect(body).not.toHaveProperty('operation');
  });

  it('carries no stack or cause even for an error made from a raw exception', () => {
    const raw = new TypeError("Cannot read properties of undefined (reading 'rows')");
    const res = createErrorResponse(sampleRequest(), toOnexError(raw, { correlationId: CORRELATION_ID }), providers());
    expect(res.error?.code).toBe('INTERNAL_ERROR');
    expect(res.error).not.toHaveProperty('stack');
    expect(res.error).not.toHaveProperty('cause');
    expectNoStack(res);
  });

  it('echoes the correlation id and leaves it absent when the request had none', () => {
    const err = new HandlerExecutionError('x');
    expect(createErrorResponse(sampleRequest(), err, providers()).correlationId).toBe(CORRELATION_ID);
    expect(createErrorResponse(sampleRequest({ correlationId: undefined }), err, providers()).correlationId).toBeUndefined();
  });
});

describe('createInvalidEnvelopeResponse', () => {
  it('answers an unparseable message, echoing the salvaged ids', () => {
    const incoming = { correlation_id: CORRELATION_ID, envelope_id: REQUEST_ID, operation: 'Not Valid' };
    let thrown: unknown;
    try {
      parseEnvelope(incoming, providers());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EnvelopeValidationError);
    if (!isOnexError(thrown)) throw new Error('unreachable');
    const res = createInvalidEnvelopeResponse(salvageIdentity(incoming), thrown, providers());
    expect(res).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: CORRELATION_ID,
      causationId: REQUEST_ID,
      operation: INVALID_ENVELOPE_OPERATION,
      payload: null,
      metadata: {},
      timestamp: T0,
      isResponse: true,
      success: false,
      error: thrown.toEnvelopeError(),
    });
    expect(res.error?.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(res.error?.issues).toEqual([{ path: 'operation', message: expect.any(String) }]);
    expectNoStack(res);
  });

  it('uses the salvaged operation when there is one, and survives a round trip', () => {
    const error = new EnvelopeValidationError('Invalid envelope');
    const res = createInvalidEnvelopeResponse({ operation: 'db.query' }, error, providers());
    expect(res.operation).toBe('db.query');
    expect(res.correlationId).toBeUndefined();
    expect(parseEnvelope(serializeEnvelope(res), providers())).toEqual(res);
  });

  it('the fallback operation is itself a valid operation', () => {
    expect(parseEnvelope({ operation: INVALID_ENVELOPE_OPERATION }, providers()).operation).toBe('envelope.invalid');
  });
});
