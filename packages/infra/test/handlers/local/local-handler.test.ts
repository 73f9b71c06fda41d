import { describe, expect, it } from 'vitest';
import { HandlerExecutionError, InvalidOperationError, NodeRuntime, createInvocationContext, type OnexEnvelope } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { LOCAL_OPERATIONS, LocalHandler } from '../../../src/handlers/local/local-handler.js';
import { CORRELATION_ID, catchOnexErrorAsync, request } from './local-test-kit.js';

async function run(handler: LocalHandler, envelope: OnexEnvelope) {
  return handler.execute(envelope, createInvocationContext(envelope));
}

describe('LocalHandler', () => {
  it('is the "local" handler type', () => {
    expect(new LocalHandler().handlerType).toBe('local');
  });

  it('echo returns the payload unchanged', async () => {
    const payload = { text: 'hello', n: 1, nested: { list: ['a', null, true] } };
    expect(await run(new LocalHandler(), request({ operation: 'echo', payload }))).toEqual(payload);
  });

  it('accepts the `local.` prefixed form of every operation', async () => {
    const h = new LocalHandler();
    expect(await run(h, request({ operation: 'local.echo', payload: 'x' }))).toBe('x');
    expect(await run(h, request({ operation: 'local.transform', payload: 'x' }))).toBe('X');
    await expect(run(h, request({ operation: 'local.error' }))).rejects.toBeInstanceOf(HandlerExecutionError);
  });

  it('transform upper-cases every string, deeply, and leaves keys and other values alone', async () => {
    const payload = { name: 'ada', count: 3, ok: false, none: null, tags: ['x', ['y', { z: 'deep' }]], inner: { city: 'köln' } };
    expect(await run(new LocalHandler(), request({ operation: 'transform', payload }))).toEqual({
      name: 'ADA',
      count: 3,
      ok: false,
      none: null,
      tags: ['X', ['Y', { z: 'DEEP' }]],
      inner: { city: 'KÖLN' },
    });
    // The request payload itself is untouched.
    expect(payload.name).toBe('ada');
  });

  it('transform of a bare string or number', async () => {
    const h = new LocalHandler();
    expect(await run(h, request({ operation: 'transform', payload: 'shout' }))).toBe('SHOUT');
    expect(await run(h, request({ operation: 'transform', payload: 12 }))).toBe(12);
  });

  it('error fails with HANDLER_EXECUTION_ERROR and a default message', async () => {
    const error = await catchOnexErrorAsync(() => run(new LocalHandler(), request({ operation: 'error', correlationId: CORRELATION_ID })));
    expect(error).toBeInstanceOf(HandlerExecutionError);
    expect(error.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(error.message).toBe('LocalHandler error operation');
    expect(error.handlerType).toBe('local');
    expect(error.operation).toBe('error');
  });

  it('error uses a custom message from the payload', async () => {
    const error = await catchOnexErrorAsync(() => run(new LocalHandler(), request({ operation: 'error', payload: { message: 'simulated outage' } })));
    expect(error.message).toBe('simulated outage');
  });

  it('error uses a custom code from the payload, with that code\'s retryability', async () => {
    const error = await catchOnexErrorAsync(() => run(new LocalHandler(), request({ operation: 'error', payload: { message: 'slow', code: 'INFRA_TIMEOUT' } })));
    expect(error.code).toBe('INFRA_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('error ignores a code that is not in the error code map', async () => {
    const error = await catchOnexErrorAsync(() => run(new LocalHandler(), request({ operation: 'error', payload: { code: 'MADE_UP' } })));
    expect(error.code).toBe('HANDLER_EXECUTION_ERROR');
  });

  it('an unknown operation → INVALID_OPERATION listing the supported ones', async () => {
    const error = await catchOnexErrorAsync(() => run(new LocalHandler(), request({ operation: 'local.delete' })));
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toContain('echo, transform, error');
    expect(error.details).toEqual({ supported_operations: ['echo', 'transform', 'error'] });
    expect(LOCAL_OPERATIONS).toEqual(['echo', 'transform', 'error']);
  });

  it('healthCheck reports dev_test_only: true', async () => {
    expect(await new LocalHandler().healthCheck()).toEqual({ healthy: true, handler_type: 'local', dev_test_only: true });
  });

  it('initialize warns once that it is for development and tests only', async () => {
    const warnings: string[] = [];
    const h = new LocalHandler({ warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(0);
    await h.initialize();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/development and tests only/);
    expect(warnings[0]).toMatch(/production/);
    expect(h.initializeCount).toBe(1);
  });

  it('without a warn option, initialize still works silently', async () => {
    const h = new LocalHandler();
    await expect(h.initialize()).resolves.toBeUndefined();
    await h.shutdown();
    expect(h.shutdownCount).toBe(1);
  });

  it('describes its operations', () => {
    expect(new LocalHandler().describe()).toMatchObject({ handlerType: 'local', supportedOperations: ['echo', 'transform', 'error'] });
  });

  it('through NodeRuntime, error becomes an error envelope with handler type and operation', async () => {
    const runtime = new NodeRuntime({ providers: deterministicProviders(7), directHandlerCalls: true });
    runtime.registerHandler(new LocalHandler());
    const res = await runtime.routeEnvelope(request({ operation: 'local.error', payload: { message: 'Database connection failed' }, correlationId: CORRELATION_ID }));
    expect(res.error).toEqual({
      code: 'HANDLER_EXECUTION_ERROR',
      message: 'Database connection failed',
      retryable: false,
      handler_type: 'local',
      operation: 'local.error',
    });
    expect(res.correlationId).toBe(CORRELATION_ID);
  });
});
