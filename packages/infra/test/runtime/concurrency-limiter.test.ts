import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../../src/runtime/concurrency-limiter.js';
import { isSettled } from './fakes.js';

describe('ConcurrencyLimiter', () => {
  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -2, 2.5, Number.POSITIVE_INFINITY]) expect(() => new ConcurrencyLimiter(bad)).toThrow(RangeError);
  });

  it('grants slots up to the limit at once and makes further callers wait', async () => {
    const limiter = new ConcurrencyLimiter(2);
    await limiter.acquire();
    await limiter.acquire();
    const third = limiter.acquire();
    expect(await isSettled(third)).toBe(false);
    expect(limiter.active).toBe(2);
    expect(limiter.peak).toBe(2);

    limiter.release();
    expect(await isSettled(third)).toBe(true);
    expect(limiter.active).toBe(2);
    expect(limiter.peak).toBe(2);
  });

  it('hands freed slots to waiters in FIFO order', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire();
    const order: string[] = [];
    const waiters = ['a', 'b', 'c'].map((name) => limiter.acquire().then(() => order.push(name)));
    for (let i = 0; i < 3; i += 1) {
      limiter.release();
      await waiters[i];
    }
    expect(order).toEqual(['a', 'b', 'c']);
    expect(limiter.peak).toBe(1);
  });

  it('a waiter whose signal aborts leaves the queue and never gets a slot', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire();
    const gaveUp = new AbortController();
    const abandoned = limiter.acquire(gaveUp.signal);
    const next = limiter.acquire();
    gaveUp.abort(new Error('caller timed out'));
    await expect(abandoned).rejects.toThrow('caller timed out');
    limiter.release();
    await next;
    expect(limiter.active).toBe(1);
    await expect(limiter.acquire(gaveUp.signal)).rejects.toThrow('caller timed out');
  });

  it('cancelWaiters fails every waiting caller and leaves held slots alone', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire();
    const reason = new Error('drain gave up');
    const waiting = [limiter.acquire(), limiter.acquire()];
    limiter.cancelWaiters(reason);
    for (const w of waiting) await expect(w).rejects.toBe(reason);
    expect(limiter.active).toBe(1);

    // The slot still works normally afterwards.
    const idle = limiter.whenIdle();
    limiter.release();
    await idle;
    await limiter.acquire();
    expect(limiter.active).toBe(1);
  });

  it('whenIdle resolves at once when nothing is held, otherwise when the last slot (and waiter) is done', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.whenIdle();

    await limiter.acquire();
    const queued = limiter.acquire();
    const idle = limiter.whenIdle();
    limiter.release(); // goes to the queued caller, so still not idle
    await queued;
    expect(await isSettled(idle)).toBe(false);
    limiter.release();
    expect(await isSettled(idle)).toBe(true);
    expect(limiter.active).toBe(0);
  });
});

describe('ConcurrencyLimiter.tryAcquire', () => {
  it('takes a free slot at once and refuses when all are held', () => {
    const limiter = new ConcurrencyLimiter(2);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.active).toBe(2);
    limiter.release();
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.peak).toBe(2);
  });
});
