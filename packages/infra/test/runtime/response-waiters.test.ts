import { createSuccessResponse } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { describe, expect, it } from 'vitest';
import { ResponseWaiters } from '../../src/runtime/response-waiters.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { requestFactory } from './fakes.js';

describe('ResponseWaiters', () => {
  const request = requestFactory();
  const providers = deterministicProviders();

  it('hands a response to the key it was delivered for, once: two callers with the same envelope id stay apart', async () => {
    const waiters = new ResponseWaiters(new ManualScheduler());
    const sameId = request({ operation: 'http.get' });
    const aliceWait = waiters.wait('ticket-alice', 10_000);
    const bobWait = waiters.wait('ticket-bob', 10_000);
    expect(waiters.size).toBe(2);
    expect(waiters.pendingIds()).toEqual(['ticket-alice', 'ticket-bob']);

    const forBob = createSuccessResponse(sameId, { n: 2 }, providers);
    const forAlice = createSuccessResponse(sameId, { n: 1 }, providers);
    expect(waiters.deliver('ticket-bob', forBob)).toBe(true);
    expect(waiters.deliver('ticket-alice', forAlice)).toBe(true);
    expect(await aliceWait).toBe(forAlice);
    expect(await bobWait).toBe(forBob);

    expect(waiters.deliver('ticket-alice', forAlice)).toBe(false);
    expect(waiters.size).toBe(0);
  });

  it('ignores responses nobody waits for', () => {
    const waiters = new ResponseWaiters(new ManualScheduler());
    expect(waiters.deliver('nobody', createSuccessResponse(request({ operation: 'http.get' }), null, providers))).toBe(false);
  });

  it('resolves undefined after the timeout and forgets the waiter', async () => {
    const scheduler = new ManualScheduler();
    const waiters = new ResponseWaiters(scheduler);
    const wait = waiters.wait('t', 250);
    await scheduler.advance(249);
    expect(waiters.size).toBe(1);
    await scheduler.advance(1);
    expect(await wait).toBeUndefined();
    expect(waiters.size).toBe(0);
    expect(waiters.deliver('t', createSuccessResponse(request({ operation: 'http.get' }), null, providers))).toBe(false);
  });

  it('cancel ends a wait without a response and clears its timer', async () => {
    const scheduler = new ManualScheduler();
    const waiters = new ResponseWaiters(scheduler);
    const wait = waiters.wait('t', 1000);
    waiters.cancel('t');
    waiters.cancel('t');
    expect(await wait).toBeUndefined();
    expect(waiters.size).toBe(0);
    expect(scheduler.pending).toBe(0);
  });

  it('answers every waiter of a key, and one timing out does not drop the other', async () => {
    const scheduler = new ManualScheduler();
    const waiters = new ResponseWaiters(scheduler);
    const req = request({ operation: 'http.get' });
    const early = waiters.wait('t', 100);
    await scheduler.advance(50);
    const resent = waiters.wait('t', 1_000);
    await scheduler.advance(60); // the first wait times out
    expect(await early).toBeUndefined();
    const response = createSuccessResponse(req, { ok: true }, providers);
    expect(waiters.deliver('t', response)).toBe(true);
    expect(await resent).toBe(response);
    expect(waiters.size).toBe(0);
  });
});
