import { createSuccessResponse } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResponseWaiters } from '../../src/runtime/response-waiters.js';
import { requestFactory } from './fakes.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('ResponseWaiters', () => {
  const request = requestFactory();
  const providers = deterministicProviders();

  it('hands a response to the request it answers (by causation id), once', async () => {
    const waiters = new ResponseWaiters();
    const correlationId = '11111111-1111-4111-8111-111111111111';
    const first = request({ operation: 'http.get', correlationId });
    const second = request({ operation: 'http.get', correlationId });
    const firstWait = waiters.wait(first.envelopeId, 10_000);
    const secondWait = waiters.wait(second.envelopeId, 10_000);
    expect(waiters.size).toBe(2);
    expect(waiters.pendingIds()).toEqual([first.envelopeId, second.envelopeId]);

    // Both share a correlation id; each gets its own answer.
    const secondResponse = createSuccessResponse(second, { n: 2 }, providers);
    const firstResponse = createSuccessResponse(first, { n: 1 }, providers);
    expect(waiters.deliver(secondResponse)).toBe(true);
    expect(waiters.deliver(firstResponse)).toBe(true);
    expect(await firstWait).toBe(firstResponse);
    expect(await secondWait).toBe(secondResponse);

    expect(waiters.deliver(firstResponse)).toBe(false);
    expect(waiters.size).toBe(0);
  });

  it('ignores responses nobody waits for and envelopes without a causation id', () => {
    const waiters = new ResponseWaiters();
    const stray = createSuccessResponse(request({ operation: 'http.get' }), null, providers);
    expect(waiters.deliver(stray)).toBe(false);
    expect(waiters.deliver({ ...stray, causationId: undefined })).toBe(false);
  });

  it('resolves undefined after the timeout and forgets the waiter', async () => {
    vi.useFakeTimers();
    const waiters = new ResponseWaiters();
    const envelope = request({ operation: 'http.get' });
    const wait = waiters.wait(envelope.envelopeId, 250);
    await vi.advanceTimersByTimeAsync(249);
    expect(waiters.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await wait).toBeUndefined();
    expect(waiters.size).toBe(0);
    expect(waiters.deliver(createSuccessResponse(envelope, null, providers))).toBe(false);
  });

  it('cancel ends a wait without a response and clears its timer', async () => {
    vi.useFakeTimers();
    const waiters = new ResponseWaiters();
    const envelope = request({ operation: 'http.get' });
    const wait = waiters.wait(envelope.envelopeId, 1000);
    waiters.cancel(envelope.envelopeId);
    waiters.cancel(envelope.envelopeId);
    expect(await wait).toBeUndefined();
    expect(waiters.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers every waiter of a resent request, and one timing out does not drop the other', async () => {
    vi.useFakeTimers();
    const waiters = new ResponseWaiters();
    const req = request({ operation: 'http.get' });
    const early = waiters.wait(req.envelopeId, 100);
    vi.advanceTimersByTime(50);
    const resent = waiters.wait(req.envelopeId, 1_000);
    vi.advanceTimersByTime(60); // the first wait times out
    expect(await early).toBeUndefined();
    const response = createSuccessResponse(req, { ok: true }, providers);
    expect(waiters.deliver(response)).toBe(true);
    expect(await resent).toBe(response);
    expect(waiters.size).toBe(0);
  });
});
