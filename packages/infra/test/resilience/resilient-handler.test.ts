/**
 * The policy stack around one handler, on a manual clock: breaker counting and half-open
 * admission, token-bucket refill and refusal, the timeout and deadline signal, and the
 * order in which the policies refuse.
 */
import {
  HandlerExecutionError,
  InfraConnectionError,
  RUNTIME_HOST_DEFAULTS,
  isOnexError,
  type EnvelopeHandler,
  type HandlerInvocationContext,
  type HandlerPolicies,
  type JsonValue,
  type OnexEnvelope,
} from '@onex/core';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/logger.js';
import { NOOP_RESILIENCE_OBSERVER, type ResilienceObserver } from '../../src/resilience/resilience-observer.js';
import { ResilientHandler } from '../../src/resilience/resilient-handler.js';
import { TokenBucket } from '../../src/resilience/token-bucket.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { requestFactory } from '../runtime/fakes.js';

const T0 = Date.parse('2023-06-01T12:00:00.000Z');
const request = requestFactory(0x7000);
const BREAKER = { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, threshold: 3, resetTimeoutMs: 10_000, halfOpenSuccesses: 2, halfOpenMaxCalls: 2 };

type Behaviour = (context: HandlerInvocationContext) => Promise<JsonValue>;

/** An inner handler whose next answers the test scripts; counts calls. */
class ScriptedHandler implements EnvelopeHandler {
  readonly handlerType = 'http' as const;
  calls = 0;
  next: Behaviour = async () => ({ ok: true });
  lastSignal: HandlerInvocationContext['signal'];
  execute(_envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    this.calls += 1;
    this.lastSignal = context.signal;
    return this.next(context);
  }
}

const connectionRefused: Behaviour = async () => {
  throw new InfraConnectionError('refused', { transportType: 'http' });
};
const clientError: Behaviour = async () => {
  throw new HandlerExecutionError('HTTP 404', { handlerType: 'http' });
};
/** Never answers on its own; rejects with the signal's reason, as the real handlers do. */
const hangs: Behaviour = (context) => new Promise((_, reject) => context.signal?.addEventListener('abort', () => reject(context.signal?.reason), { once: true }));

function stack(policies: Partial<HandlerPolicies> = {}, observer: Partial<ResilienceObserver> = {}) {
  const scheduler = new ManualScheduler(T0);
  const inner = new ScriptedHandler();
  const events: string[] = [];
  const recording: ResilienceObserver = {
    ...NOOP_RESILIENCE_OBSERVER,
    // The wiring-time report (closed->closed) is checked on its own below.
    circuitStateChanged: (_h, from, to) => (from === to ? undefined : events.push(`${from}->${to}`)),
    circuitRejected: () => events.push('circuit_rejected'),
    bulkheadRejected: () => events.push('bulkhead_rejected'),
    rateLimited: () => events.push('rate_limited'),
    rateLimitWait: (_h, ms) => events.push(`wait ${ms}`),
    timedOut: () => events.push('timed_out'),
    expired: () => events.push('expired'),
    ...observer,
  };
  const handler = new ResilientHandler(inner, { timeoutMs: 5_000, circuitBreaker: BREAKER, ...policies }, { scheduler, logger: silentLogger, observer: recording });
  const call = (envelope: OnexEnvelope = request({ operation: 'http.get' }), signal?: AbortSignal) =>
    handler.execute(envelope, { correlationId: envelope.correlationId, envelopeId: envelope.envelopeId, operation: envelope.operation, nodeSlug: undefined, access: 'read_only', signal });
  return { scheduler, inner, handler, call, events };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> } | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!isOnexError(error)) throw error;
    return { code: error.code, details: { ...error.details } };
  }
}

describe('circuit breaker', () => {
  it('reports its closed state once at wiring, so metrics show it before the first change; a binding without a breaker reports nothing', () => {
    const seen: string[] = [];
    const observer = { circuitStateChanged: (h: string, from: string, to: string) => seen.push(`${h} ${from}->${to}`) };
    stack({}, observer);
    stack({ circuitBreaker: { ...BREAKER, enabled: false } }, observer);
    expect(seen).toEqual(['http closed->closed']);
  });

  it('opens after threshold consecutive transport failures and then fails fast without calling the handler', async () => {
    const { inner, call, handler, events } = stack();
    inner.next = connectionRefused;
    for (let i = 0; i < 3; i += 1) expect(await codeOf(call())).toMatchObject({ code: 'INFRA_CONNECTION_ERROR' });
    expect(handler.circuitState).toBe('open');
    expect(await codeOf(call())).toEqual({ code: 'INFRA_UNAVAILABLE', details: { policy: 'circuit_breaker', retry_after_seconds: 10, transport_type: 'http' } });
    expect(inner.calls).toBe(3);
    expect(events).toEqual(['closed->open', 'circuit_rejected']);
  });

  it('does not count answers from the dependency (a 4xx), and they break a run of transport failures', async () => {
    const { inner, call, handler } = stack();
    for (const next of [connectionRefused, connectionRefused, clientError, connectionRefused, connectionRefused, clientError, clientError, clientError]) {
      inner.next = next;
      await codeOf(call());
    }
    expect(handler.circuitState).toBe('closed');
    expect(inner.calls).toBe(8);
  });

  it('half-opens after the reset timeout, admits half_open_max_calls trials at once, closes after half_open_successes', async () => {
    const { inner, call, handler, scheduler, events } = stack();
    inner.next = connectionRefused;
    for (let i = 0; i < 3; i += 1) await codeOf(call());
    await scheduler.advance(9_999);
    expect(await codeOf(call())).toMatchObject({ code: 'INFRA_UNAVAILABLE', details: { retry_after_seconds: 1 } });
    await scheduler.advance(1);
    expect(handler.circuitState).toBe('half_open');
    const pending: Array<() => void> = [];
    inner.next = () => new Promise((resolve) => pending.push(() => resolve({ ok: true })));
    const trials = [call(), call()];
    // Both trial places are taken: a third call fails fast while they run.
    expect(await codeOf(call())).toMatchObject({ code: 'INFRA_UNAVAILABLE' });
    expect(inner.calls).toBe(5);
    await scheduler.advance(0);
    pending[0]?.();
    await trials[0];
    // One success of the two needed: still half-open.
    expect(handler.circuitState).toBe('half_open');
    pending[1]?.();
    await trials[1];
    expect(handler.circuitState).toBe('closed');
    expect(events.filter((e) => e.includes('->'))).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('opens again for another reset timeout when a trial fails', async () => {
    const { inner, call, handler, scheduler } = stack();
    inner.next = connectionRefused;
    for (let i = 0; i < 3; i += 1) await codeOf(call());
    await scheduler.advance(10_000);
    await codeOf(call());
    expect(handler.circuitState).toBe('open');
    expect(await codeOf(call())).toMatchObject({ details: { retry_after_seconds: 10 } });
  });

  it('is absent when the binding turns it off', async () => {
    const { inner, call, handler } = stack({ circuitBreaker: { ...BREAKER, enabled: false } });
    inner.next = connectionRefused;
    for (let i = 0; i < 5; i += 1) expect(await codeOf(call())).toMatchObject({ code: 'INFRA_CONNECTION_ERROR' });
    expect(handler.circuitState).toBeUndefined();
  });
});

describe('rate limit (token bucket)', () => {
  it('serves the burst at once, refills at per_second, and queues callers in arrival order', async () => {
    const scheduler = new ManualScheduler(T0);
    const bucket = new TokenBucket({ perSecond: 2, burst: 2 }, scheduler);
    expect([bucket.reserve(0), bucket.reserve(0)]).toEqual([{ waitMs: 0 }, { waitMs: 0 }]);
    expect(bucket.reserve(10_000)).toEqual({ waitMs: 500 });
    expect(bucket.reserve(10_000)).toEqual({ waitMs: 1000 });
    expect(bucket.reserve(999)).toEqual({ retryAfterMs: 1500 });
    await scheduler.advance(3_000);
    // Refilled to the burst, never beyond it.
    expect(bucket.available).toBe(2);
  });

  it('waits for a token within the budget, and beyond it fails with INFRA_RATE_LIMITED and retry_after_ms, unexecuted', async () => {
    const { inner, call, scheduler, events } = stack({ rateLimit: { perSecond: 0.5, burst: 1 } });
    expect(await codeOf(call())).toBe('ok');
    const waiting = codeOf(call());
    await scheduler.advance(2_000);
    expect(await waiting).toBe('ok');
    // The next token is 2 s away; a 1 s budget cannot wait for it.
    const short = stack({ rateLimit: { perSecond: 0.5, burst: 1 }, timeoutMs: 1_000 });
    await codeOf(short.call());
    expect(await codeOf(short.call())).toEqual({ code: 'INFRA_RATE_LIMITED', details: { policy: 'rate_limit', retry_after_ms: 2000, transport_type: 'http' } });
    expect(short.inner.calls).toBe(1);
    expect(inner.calls).toBe(2);
    expect(events).toEqual(['wait 2000']);
  });
});

describe('timeout and deadline', () => {
  it('aborts the signal handed to the handler at timeout_ms, with INFRA_TIMEOUT, and counts it for the breaker', async () => {
    const { inner, call, scheduler, events } = stack({ timeoutMs: 2_000 });
    inner.next = hangs;
    const result = codeOf(call());
    await scheduler.advance(2_000);
    expect(await result).toMatchObject({ code: 'INFRA_TIMEOUT', details: { timeout_ms: 2000 } });
    expect(inner.lastSignal?.aborted).toBe(true);
    expect(events).toEqual(['timed_out']);
  });

  it('refuses an expired envelope with EXPIRED without calling the handler', async () => {
    const { inner, call, scheduler, events } = stack();
    await scheduler.advance(5_000);
    expect(await codeOf(call(request({ operation: 'http.get', ttlSeconds: 5 })))).toMatchObject({ code: 'EXPIRED', details: { may_have_run: false } });
    expect(inner.calls).toBe(0);
    expect(events).toEqual(['expired']);
  });

  it('cancels the call at the deadline when that comes before timeout_ms', async () => {
    const { inner, call, scheduler } = stack({ timeoutMs: 60_000 });
    inner.next = hangs;
    const result = codeOf(call(request({ operation: 'http.get', metadata: { deadline: '2023-06-01T12:00:03Z' } })));
    await scheduler.advance(3_000);
    expect(await result).toMatchObject({ code: 'EXPIRED', details: { may_have_run: true } });
  });

  it("passes the caller's cancellation on, and a call its caller gave up on does not count for the breaker", async () => {
    const { inner, call, handler } = stack();
    inner.next = hangs;
    for (let i = 0; i < 4; i += 1) {
      const caller = new AbortController();
      const result = codeOf(call(undefined, caller.signal));
      caller.abort(new InfraConnectionError('caller gone', { transportType: 'runtime' }));
      await result;
    }
    expect(handler.circuitState).toBe('closed');
  });
});

describe('composition order', () => {
  it('bulkhead before rate limit before breaker: a call refused early consumes nothing later', async () => {
    const { inner, call, scheduler, events } = stack({ bulkhead: { maxConcurrent: 1, maxQueue: 0 }, rateLimit: { perSecond: 1, burst: 1 } });
    inner.next = hangs;
    const running = codeOf(call());
    // Bulkhead full: refused there, so the (empty) bucket is never asked.
    expect(await codeOf(call())).toMatchObject({ code: 'INFRA_UNAVAILABLE', details: { policy: 'bulkhead' } });
    expect(events).toEqual(['bulkhead_rejected']);
    await scheduler.advance(5_000);
    await running;
    expect(inner.calls).toBe(1);
  });

  it('rate limit before the breaker: with no token in the budget, the open breaker is not consulted', async () => {
    const { inner, call, events } = stack({ rateLimit: { perSecond: 0.01, burst: 3 }, timeoutMs: 1_000 });
    inner.next = connectionRefused;
    for (let i = 0; i < 3; i += 1) await codeOf(call());
    expect(await codeOf(call())).toMatchObject({ code: 'INFRA_RATE_LIMITED' });
    expect(events).toEqual(['closed->open', 'rate_limited']);
  });
});
