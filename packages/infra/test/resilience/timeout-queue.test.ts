import { describe, expect, it } from 'vitest';
import { TimeoutQueue } from '../../src/resilience/timeout-queue.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';

function setup() {
  const scheduler = new ManualScheduler();
  const queue = new TimeoutQueue(scheduler);
  const fired: string[] = [];
  const add = (name: string, inMs: number) => queue.add(scheduler.now() + inMs, () => fired.push(`${name}@${scheduler.now() - start}`));
  const start = scheduler.now();
  return { scheduler, queue, fired, add };
}

describe('TimeoutQueue', () => {
  it('times out each entry at its own end, in order, on one scheduler timer', async () => {
    const { scheduler, fired, add } = setup();
    add('a', 100);
    await scheduler.advance(30);
    add('b', 100);
    await scheduler.advance(30);
    add('c', 100);
    expect(scheduler.pending).toBe(1);
    await scheduler.advance(200);
    expect(fired).toEqual(['a@100', 'b@130', 'c@160']);
    expect(scheduler.pending).toBe(0);
  });

  it('never runs a cancelled entry, and keeps the timer rather than re-arming it per call', async () => {
    const { scheduler, fired, add } = setup();
    const a = add('a', 100);
    add('b', 100);
    a.cancel();
    a.cancel();
    expect(scheduler.pending).toBe(1);
    await scheduler.advance(150);
    expect(fired).toEqual(['b@100']);
    const c = add('c', 100);
    c.cancel();
    // The armed timer fires on an empty list and leaves nothing behind.
    await scheduler.advance(150);
    expect(fired).toEqual(['b@100']);
    expect(scheduler.pending).toBe(0);
  });

  it('gives an entry that would end before the tail a timer of its own, so it is never late', async () => {
    const { scheduler, fired, add } = setup();
    add('long', 100);
    add('short', 10);
    expect(scheduler.pending).toBe(2);
    await scheduler.advance(200);
    expect(fired).toEqual(['short@10', 'long@100']);
  });

  it('re-arms when the clock stepped back and a new head ends before the armed time', async () => {
    const { scheduler, queue, fired } = setup();
    const t0 = scheduler.now();
    const first = queue.add(t0 + 100, () => fired.push('first'));
    first.cancel();
    scheduler.stepBack(50);
    queue.add(scheduler.now() + 100, () => fired.push(`second@${scheduler.now() - t0}`));
    await scheduler.advance(60);
    expect(fired).toEqual([]);
    await scheduler.advance(40);
    expect(fired).toEqual(['second@50']);
  });

  it('still times out the other due entries when one callback throws', async () => {
    const { scheduler, queue, fired } = setup();
    const t0 = scheduler.now();
    queue.add(t0 + 10, () => {
      throw new Error('callback failed');
    });
    queue.add(t0 + 10, () => fired.push('next'));
    await expect(scheduler.advance(10)).rejects.toThrow('callback failed');
    await scheduler.advance(1);
    expect(fired).toEqual(['next']);
  });
});
