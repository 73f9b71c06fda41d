import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../src/event-bus/bounded-queue.js';
import { isSettled } from '../runtime/fakes.js';

describe('BoundedQueue', () => {
  it('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedQueue(bad)).toThrow(RangeError);
    expect(new BoundedQueue(1).capacity).toBe(1);
  });

  it('hands items out first in, first out', async () => {
    const queue = new BoundedQueue<number>(10);
    for (const n of [1, 2, 3]) await queue.put(n);
    expect(queue.size).toBe(3);
    expect([await queue.take(), await queue.take(), await queue.take()]).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
  });

  it('makes put wait while full instead of growing, and lets waiting putters in in order', async () => {
    const queue = new BoundedQueue<string>(2);
    await queue.put('a');
    await queue.put('b');
    const c = queue.put('c');
    const d = queue.put('d');
    expect(await isSettled(c)).toBe(false);
    expect(queue.size).toBe(2);
    expect(queue.waitingPutters).toBe(2);

    expect(await queue.take()).toBe('a');
    expect(await isSettled(c)).toBe(true);
    expect(await isSettled(d)).toBe(false);
    expect(queue.size).toBe(2);

    expect(await queue.take()).toBe('b');
    await d;
    expect([await queue.take(), await queue.take()]).toEqual(['c', 'd']);
    expect(queue.waitingPutters).toBe(0);
  });

  it('makes take wait while empty; a put hands the item straight to the waiting taker', async () => {
    const queue = new BoundedQueue<string>(1);
    const first = queue.take();
    const second = queue.take();
    expect(await isSettled(first)).toBe(false);
    await queue.put('x');
    await queue.put('y');
    expect(await first).toBe('x');
    expect(await second).toBe('y');
    expect(queue.size).toBe(0);
  });

  it('drainAll returns queued items and waiting putters in order, and releases those putters', async () => {
    const queue = new BoundedQueue<number>(2);
    await queue.put(1);
    await queue.put(2);
    const third = queue.put(3);
    expect(queue.drainAll()).toEqual([1, 2, 3]);
    await third;
    expect(queue.size).toBe(0);
    expect(queue.waitingPutters).toBe(0);
    expect(queue.drainAll()).toEqual([]);
  });

  it('close wakes waiting takers with undefined, fails waiting and later putters, and keeps queued items takeable', async () => {
    const empty = new BoundedQueue<number>(1);
    const taker = empty.take();
    empty.close();
    expect(await taker).toBeUndefined();
    expect(empty.closed).toBe(true);

    const full = new BoundedQueue<number>(1);
    await full.put(1);
    const waiting = full.put(2);
    const reason = new Error('bus is shutting down');
    full.close(() => reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(full.put(3)).rejects.toBe(reason);
    expect(await full.take()).toBe(1);
    expect(await full.take()).toBeUndefined();
  });

  it('close is idempotent and keeps the first reason; the default reason is an Error', async () => {
    const queue = new BoundedQueue<number>(1);
    queue.close();
    queue.close(() => new Error('second reason'));
    await expect(queue.put(1)).rejects.toThrow('queue closed');
  });

  it('keeps FIFO order over a long life (exercises the internal compaction)', async () => {
    const queue = new BoundedQueue<number>(3);
    const total = 5000;
    const producer = (async () => {
      for (let n = 0; n < total; n += 1) await queue.put(n);
    })();
    const seen: number[] = [];
    for (let n = 0; n < total; n += 1) {
      seen.push((await queue.take()) as number);
      expect(queue.size).toBeLessThanOrEqual(3);
    }
    await producer;
    expect(seen).toEqual(Array.from({ length: total }, (_, n) => n));
  });
});

describe('BoundedQueue without waiting (offer / poll)', () => {
  it('offer accepts while there is room and refuses when full, never overtaking a waiting put', async () => {
    const queue = new BoundedQueue<number>(2);
    expect(queue.offer(1)).toBe(true);
    expect(queue.offer(2)).toBe(true);
    expect(queue.offer(3)).toBe(false);
    const waiting = queue.put(3);
    expect(queue.poll()).toBe(1); // frees a slot, which the waiting put takes
    expect(await isSettled(waiting)).toBe(true);
    expect(queue.offer(4)).toBe(false); // full again: 2, 3
    expect([queue.poll(), queue.poll(), queue.poll()]).toEqual([2, 3, undefined]);
  });

  it('offer hands an item straight to a waiting taker, and refuses after close', async () => {
    const queue = new BoundedQueue<string>(1);
    const taken = queue.take();
    expect(queue.offer('a')).toBe(true);
    expect(await taken).toBe('a');
    queue.close();
    expect(queue.offer('b')).toBe(false);
  });
});
