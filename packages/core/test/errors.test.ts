import { describe, expect, it } from 'vitest';
import {
  ArchitectureViolationError,
  ContractValidationError,
  EnvelopeValidationError,
  EventBusError,
  ExecutionInterruptedError,
  EnvelopeExpiredError,
  HandlerConfigurationError,
  InternalError,
  ONEX_ERROR_CLASSES,
  ShuttingDownError,
  HandlerExecutionError,
  HandlerNotFoundError,
  InfraAuthenticationError,
  InfraConnectionError,
  InfraError,
  InfraRateLimitedError,
  InfraResponseTooLargeError,
  InfraTimeoutError,
  InfraUnavailableError,
  InvalidOperationError,
  NodeNotFoundError,
  ONEX_ERROR_CODES,
  OnexError,
  RuntimeHostError,
  SecretResolutionError,
  VersionCompatibilityError,
  isOnexError,
  isOnexErrorCode,
  IngressUnauthenticatedError,
  IngressForbiddenError,
  IngressRouteNotFoundError,
  IngressMethodNotAllowedError,
  IngressUnsupportedMediaTypeError,
  IngressLoopDetectedError,
  IngressInsecureConfigurationError,
  IngressBodyTooLargeError,
  IngressListenFailedError,
  IdempotencyKeyConflictError,
  toOnexError,
  type OnexErrorCode,
  type OnexErrorOptions,
} from '@onex/core';
import { CORRELATION_ID } from './helpers.js';

type PlainErrorClass = new (message: string, options?: OnexErrorOptions) => OnexError;

const RUNTIME_ERRORS: ReadonlyArray<readonly [PlainErrorClass, OnexErrorCode, boolean]> = [
  [RuntimeHostError, 'RUNTIME_HOST_ERROR', false],
  [InternalError, 'INTERNAL_ERROR', false],
  [ShuttingDownError, 'SHUTTING_DOWN', true],
  [ExecutionInterruptedError, 'EXECUTION_INTERRUPTED', false],
  [EnvelopeExpiredError, 'EXPIRED', false],
  [HandlerExecutionError, 'HANDLER_EXECUTION_ERROR', false],
  [EventBusError, 'EVENT_BUS_ERROR', true],
  [InvalidOperationError, 'INVALID_OPERATION', false],
  [HandlerNotFoundError, 'HANDLER_NOT_FOUND', false],
  [NodeNotFoundError, 'NODE_NOT_FOUND', false],
  [EnvelopeValidationError, 'ENVELOPE_VALIDATION_ERROR', false],
  [HandlerConfigurationError, 'HANDLER_CONFIGURATION_ERROR', false],
  [SecretResolutionError, 'SECRET_RESOLUTION_ERROR', false],
  [VersionCompatibilityError, 'VERSION_INCOMPATIBLE', false],
  [IngressUnauthenticatedError, 'INGRESS_UNAUTHENTICATED', false],
  [IngressForbiddenError, 'INGRESS_FORBIDDEN', false],
  [IngressRouteNotFoundError, 'INGRESS_ROUTE_NOT_FOUND', false],
  [IngressMethodNotAllowedError, 'INGRESS_METHOD_NOT_ALLOWED', false],
  [IngressUnsupportedMediaTypeError, 'INGRESS_UNSUPPORTED_MEDIA_TYPE', false],
  [IngressLoopDetectedError, 'INGRESS_LOOP_DETECTED', false],
  [IngressInsecureConfigurationError, 'INGRESS_INSECURE_CONFIGURATION', false],
  [IngressBodyTooLargeError, 'INGRESS_BODY_TOO_LARGE', false],
  [IngressListenFailedError, 'INGRESS_LISTEN_FAILED', false],
  [IdempotencyKeyConflictError, 'IDEMPOTENCY_KEY_CONFLICT', false],
];

type InfraErrorClass = new (message: string, options: ConstructorParameters<typeof InfraConnectionError>[1]) => InfraError;

const INFRA_ERRORS: ReadonlyArray<readonly [InfraErrorClass, OnexErrorCode, boolean]> = [
  [InfraConnectionError, 'INFRA_CONNECTION_ERROR', true],
  [InfraTimeoutError, 'INFRA_TIMEOUT', true],
  [InfraAuthenticationError, 'INFRA_AUTHENTICATION_ERROR', false],
  [InfraRateLimitedError, 'INFRA_RATE_LIMITED', true],
  [InfraUnavailableError, 'INFRA_UNAVAILABLE', true],
  [InfraResponseTooLargeError, 'INFRA_RESPONSE_TOO_LARGE', false],
];

describe('error classes', () => {
  it.each(RUNTIME_ERRORS)('%o has code %s and retryable %s', (Cls, code, retryable) => {
    const error = new Cls('something failed');
    expect(error).toBeInstanceOf(OnexError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(Cls);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.name).toBe(Cls.name);
    expect(error.message).toBe('something failed');
    expect(isOnexError(error)).toBe(true);
    expect(error).toBeInstanceOf(RuntimeHostError);
  });

  it.each(INFRA_ERRORS)('%o has code %s and retryable %s', (Cls, code, retryable) => {
    const error = new Cls('db unreachable', { transportType: 'db', target: 'postgres:5432' });
    expect(error).toBeInstanceOf(InfraError);
    expect(error).toBeInstanceOf(RuntimeHostError);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.name).toBe(Cls.name);
  });

  it('ContractValidationError has code CONTRACT_VALIDATION_ERROR, is not retryable, and lists its issues', () => {
    const error = new ContractValidationError(
      [{ ruleId: 'CONTRACT_UNKNOWN_FIELD', severity: 'error', message: 'unknown field "colour"', hint: 'remove it', file: 'a.yaml', line: 3, column: 5, path: 'colour' }],
      'a.yaml',
    );
    expect(error).toBeInstanceOf(RuntimeHostError);
    expect(error.code).toBe('CONTRACT_VALIDATION_ERROR');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('a.yaml:3:5');
    expect(error.toEnvelopeError().issues).toEqual([
      { rule_id: 'CONTRACT_UNKNOWN_FIELD', severity: 'error', message: 'unknown field "colour"', remediation_hint: 'remove it', file: 'a.yaml', line: 3, column: 5, path: 'colour' },
    ]);
  });

  it('every code in the map has a retryable flag and an HTTP error status, and isOnexErrorCode knows exactly those codes', () => {
    for (const [code, info] of Object.entries(ONEX_ERROR_CODES)) {
      expect(typeof info.retryable).toBe('boolean');
      // An error answer is never a success: 4xx for the caller's mistakes, 5xx for the rest.
      expect(info.httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(info.httpStatus, code).toBeLessThan(600);
      expect(isOnexErrorCode(code)).toBe(true);
    }
    expect(isOnexErrorCode('NOPE')).toBe(false);
    expect(isOnexErrorCode('toString')).toBe(false);
    expect(isOnexErrorCode(undefined)).toBe(false);
  });

  it('class and code are one axis: each code has exactly one class, and that class carries that code', () => {
    const classes = Object.entries(ONEX_ERROR_CLASSES);
    expect(classes.map(([code]) => code).sort()).toEqual(Object.keys(ONEX_ERROR_CODES).sort());
    for (const [code, Cls] of classes) expect(Cls.defaultCode, Cls.name).toBe(code);
    expect(new Set(classes.map(([, Cls]) => Cls)).size).toBe(classes.length);
    // No option can make an error's code disagree with its class.
    const forged = new HandlerExecutionError('slow', { code: 'INFRA_TIMEOUT' } as OnexErrorOptions);
    expect(forged.code).toBe('HANDLER_EXECUTION_ERROR');
  });

  it('an architecture violation carries its rule id', () => {
    const error = new ArchitectureViolationError('handler published', { ruleId: 'ARCH_HANDLER_PUBLISH' });
    expect(error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', retryable: false, ruleId: 'ARCH_HANDLER_PUBLISH' });
    expect(error.toEnvelopeError()).toMatchObject({ rule_id: 'ARCH_HANDLER_PUBLISH' });
  });

  it('retryable can be overridden explicitly', () => {
    expect(new HandlerExecutionError('x', { retryable: true }).retryable).toBe(true);
    expect(new EventBusError('x', { retryable: false }).retryable).toBe(false);
  });

  it('keeps the cause for local logs', () => {
    const cause = new Error('low level');
    expect(new HandlerExecutionError('high level', { cause }).cause).toBe(cause);
    expect(new HandlerExecutionError('no cause').cause).toBeUndefined();
  });

  it('freezes details', () => {
    const details = { available_handlers: ['db'] };
    const error = new HandlerNotFoundError('x', { details });
    expect(Object.isFrozen(error.details)).toBe(true);
    details.available_handlers.push('http');
    expect(error.details).not.toBe(details);
  });
});

describe('toEnvelopeError', () => {
  it('has code, message, retryable, handler_type, operation, hint and the details; no stack or cause', () => {
    const error = new HandlerNotFoundError("No handler registered for type 'vault'", {
      handlerType: 'vault',
      operation: 'vault.read',
      correlationId: CORRELATION_ID,
      details: { available_handlers: ['db', 'http'] },
      hint: 'Enable a vault handler.',
      cause: new Error('inner'),
    });
    const body = error.toEnvelopeError();
    expect(body).toEqual({
      code: 'HANDLER_NOT_FOUND',
      message: "No handler registered for type 'vault'",
      retryable: false,
      handler_type: 'vault',
      operation: 'vault.read',
      hint: 'Enable a vault handler.',
      available_handlers: ['db', 'http'],
    });
    const text = JSON.stringify(body);
    expect(text).not.toContain('stack');
    expect(text).not.toContain('inner');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('omits handler_type, operation and hint when unknown', () => {
    expect(new RuntimeHostError('x').toEnvelopeError()).toEqual({ code: 'RUNTIME_HOST_ERROR', message: 'x', retryable: false });
  });

  it('a detail cannot overwrite code or message', () => {
    const body = new HandlerExecutionError('real', { details: { code: 'FAKE', message: 'fake' } }).toEnvelopeError();
    expect(body.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(body.message).toBe('real');
  });

  it('toLogFields gives structured fields including the correlation id', () => {
    const fields = new HandlerExecutionError('x', { correlationId: CORRELATION_ID, handlerType: 'db', operation: 'db.query' }).toLogFields();
    expect(fields).toMatchObject({ error_code: 'HANDLER_EXECUTION_ERROR', error_message: 'x', retryable: false, correlation_id: CORRELATION_ID, handler_type: 'db', operation: 'db.query' });
  });
});

describe('infra errors', () => {
  it('carry transport_type and target into the error envelope', () => {
    const error = new InfraConnectionError('Could not connect to PostgreSQL', { transportType: 'db', target: 'postgres:5432', operation: 'db.query', details: { sqlstate: '08006' } });
    expect(error.transportType).toBe('db');
    expect(error.details).toEqual({ sqlstate: '08006', transport_type: 'db', target: 'postgres:5432' });
    expect(error.toEnvelopeError()).toEqual({
      code: 'INFRA_CONNECTION_ERROR',
      message: 'Could not connect to PostgreSQL',
      retryable: true,
      operation: 'db.query',
      sqlstate: '08006',
      transport_type: 'db',
      target: 'postgres:5432',
    });
  });

  it('omit target when none is given', () => {
    const error = new InfraTimeoutError('timed out', { transportType: 'http' });
    expect(error.toEnvelopeError()).toMatchObject({ transport_type: 'http' });
    expect(error.toEnvelopeError()).not.toHaveProperty('target');
  });
});

describe('toOnexError funnel', () => {
  it('an Error becomes INTERNAL_ERROR, keeps the original as cause, and names what failed', () => {
    const raw = new TypeError('x is not a function');
    const error = toOnexError(raw, { correlationId: CORRELATION_ID, handlerType: 'db', operation: 'db.query' });
    expect(error).toBeInstanceOf(RuntimeHostError);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('x is not a function');
    expect(error.cause).toBe(raw);
    expect(error).toMatchObject({ correlationId: CORRELATION_ID, handlerType: 'db', operation: 'db.query' });
    expect(error.hint).toBeTruthy();
  });

  it('an Error without a message is described by its name', () => {
    expect(toOnexError(new RangeError()).message).toContain('RangeError');
  });

  it('a string becomes INTERNAL_ERROR with the string in the message', () => {
    const error = toOnexError('disk on fire');
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toContain('disk on fire');
  });

  it('a plain object becomes INTERNAL_ERROR described as JSON', () => {
    const error = toOnexError({ reason: 'bad', status: 500 });
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toContain('{"reason":"bad","status":500}');
  });

  it('null and undefined become INTERNAL_ERROR', () => {
    expect(toOnexError(null)).toMatchObject({ code: 'INTERNAL_ERROR', message: expect.stringContaining('null') });
    expect(toOnexError(undefined)).toMatchObject({ code: 'INTERNAL_ERROR', message: expect.stringContaining('undefined') });
  });

  it('an object that cannot be stringified still becomes INTERNAL_ERROR', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toOnexError(cyclic).code).toBe('INTERNAL_ERROR');
    expect(toOnexError(10n).code).toBe('INTERNAL_ERROR');
  });

  it('an OnexError keeps its class, code, message and context; missing context is filled, never overwritten', () => {
    const original = new HandlerNotFoundError('no vault', { correlationId: CORRELATION_ID, handlerType: 'vault', details: { available_handlers: ['db'] } });
    const error = toOnexError(original, { correlationId: '00000000-0000-0000-0000-000000000001', handlerType: 'db', operation: 'vault.read' });
    expect(error).toBeInstanceOf(HandlerNotFoundError);
    expect(error.code).toBe('HANDLER_NOT_FOUND');
    expect(error.message).toBe('no vault');
    expect(error.correlationId).toBe(CORRELATION_ID);
    expect(error.handlerType).toBe('vault');
    expect(error.operation).toBe('vault.read');
    expect(error.details).toEqual({ available_handlers: ['db'] });
    expect(error.stack).toBe(original.stack);
    // The original is not changed.
    expect(original.operation).toBeUndefined();
  });

  it('an infra error keeps its transport type through the funnel', () => {
    const error = toOnexError(new InfraUnavailableError('sealed', { transportType: 'vault', target: 'openbao:8200' }), { operation: 'vault.read' });
    expect(error).toBeInstanceOf(InfraUnavailableError);
    expect((error as InfraUnavailableError).transportType).toBe('vault');
    expect(error.toEnvelopeError()).toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true, transport_type: 'vault', target: 'openbao:8200', operation: 'vault.read' });
  });

  it('never leaks a credential from a raw error message', () => {
    const error = toOnexError(new Error('connect failed: postgres://admin:s3cr3tPW@db:5432/app'));
    expect(error.message).not.toContain('s3cr3tPW');
    expect(JSON.stringify(error.toEnvelopeError())).not.toContain('s3cr3tPW');
  });

  it('never leaks a credential from a thrown object', () => {
    expect(toOnexError({ user: 'app', password: 'hunter2' }).message).not.toContain('hunter2');
  });
});
