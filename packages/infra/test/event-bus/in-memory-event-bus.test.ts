import { ShuttingDownError, createRequestEnvelope, type OnexEnvelope } from '@onex/core';
import type { BusMessage } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { Cleanup, Deferred, eventually, isSettled, requestFactory, settle } from '../runtime/fakes.js';

const A = 'onex.test.alpha.cmd.v1';
const B = 'onex.test.beta.cmd.v1';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function newBus(maxQueueSize?: number): InMemoryEventBus {
  const bus = new InMemoryEventBus(maxQueueSize === undefined ? {} : { maxQueueSize });
  return cleanup.add(() => bus.shutdown(), bus);
}

/** A subscriber that records every message. */
function recorder(): { received: BusMessage[]; subscriber: (m: BusMessage) => Promise<void> } {
  const received: BusMessage[] = [];
  return {
    received,
    subscriber: async (m) => {
      received.push(m);
    },
  };
}

/** A subscriber that records each message and then holds until that delivery is released. */
function heldSubscriber(): { received: BusMessage[]; subscriber: (m: BusMessage) => Promise<void>; releaseNext: () => void; releaseAll: () => void } {
  const received: BusMessage[] = [];
  const holds: Deferred[] = [];
  let released = 0;
  let all = false;
  return {
    received,
    subscriber: (m) => {
      received.push(m);
      if (all) return Promise.resolve();
      const hold = new Deferred();
      holds.push(hold);
      if (holds.length <= released) hold.resolve();
      return hold.promise;
    },
    releaseNext: () => {
      released += 1;
      holds[released - 1]?.resolve();
    },
    releaseAll: () => {
      all = true;
      for (const h of holds) h.resolve();
    },
  };
}

const values = (messages: readonly BusMessage[]) => messages.map((m) => m.value);

describe('InMemoryEventBus: delivery', () => {
  it('delivers envelopes on a topic first in, first out, by reference and unmodified', async () => {
    const bus = newBus();
    const request = requestFactory();
    const { received, subscriber } = recorder();
    await bus.subscribe(A, subscriber);
    await bus.startConsuming();

    const sent: OnexEnvelope[] = [];
    for (let i = 0; i < 50; i += 1) {
      const envelope = Object.freeze(request({ operation: 'http.get', payload: { i }, correlationId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
      sent.push(envelope);
      await bus.publishEnvelope(envelope, A);
    }
    await eventually(() => expect(received).toHaveLength(50));
    expect(values(received)).toEqual(sent);
    received.forEach((m, i) => {
      expect(m.value).toBe(sent[i]);
      expect(m.topic).toBe(A);
      // The correlation id is the partition key, untouched.
      expect(m.key).toBe(sent[i]?.correlationId);
    });
  });

  it('keeps topics independent: a stuck subscriber on one topic does not hold up another', async () => {
    const bus = newBus();
    const stuck = heldSubscriber();
    const free = recorder();
    await bus.subscribe(A, stuck.subscriber);
    await bus.subscribe(B, free.subscriber);
    await bus.startConsuming();

    for (const n of [1, 2, 3]) {
      await bus.publish({ topic: A, value: `a${n}` });
      await bus.publish({ topic: B, value: `b${n}` });
    }
    await eventually(() => expect(values(free.received)).toEqual(['b1', 'b2', 'b3']));
    expect(values(stuck.received)).toEqual(['a1']);
    expect(bus.depth(A)).toBe(2);
    expect(bus.depth(B)).toBe(0);

    stuck.releaseAll();
    await eventually(() => expect(values(stuck.received)).toEqual(['a1', 'a2', 'a3']));
  });

  it('fans every message out to each subscriber of the topic, in order', async () => {
    const bus = newBus();
    const first = recorder();
    const second = recorder();
    await bus.subscribe(A, first.subscriber);
    await bus.subscribe(A, second.subscriber);
    await bus.startConsuming();
    for (const n of [1, 2, 3, 4]) await bus.publish({ topic: A, value: `m${n}` });

    await eventually(() => expect(values(second.received)).toEqual(['m1', 'm2', 'm3', 'm4']));
    await eventually(() => expect(values(first.received)).toEqual(['m1', 'm2', 'm3', 'm4']));
    expect((await bus.healthCheck()).delivered).toBe(8);
  });

  it('keeps messages published before anyone subscribed and gives them to the first subscriber only', async () => {
    const bus = newBus();
    await bus.publish({ topic: A, value: 'early-1' });
    await bus.publish({ topic: A, value: 'early-2' });
    expect(bus.depth(A)).toBe(2);

    const first = recorder();
    const second = recorder();
    await bus.subscribe(A, first.subscriber);
    await bus.subscribe(A, second.subscriber);
    await bus.publish({ topic: A, value: 'late' });
    // Nothing is delivered before consumption starts.
    await settle();
    expect(first.received).toEqual([]);

    await bus.startConsuming();
    await eventually(() => expect(values(first.received)).toEqual(['early-1', 'early-2', 'late']));
    await eventually(() => expect(values(second.received)).toEqual(['late']));
  });

  it('delivers raw strings and bytes as published (what a network transport would hand over)', async () => {
    const bus = newBus();
    const { received, subscriber } = recorder();
    await bus.subscribe(A, subscriber);
    await bus.startConsuming();
    const bytes = new TextEncoder().encode('{"operation":"http.get"}');
    await bus.publish({ topic: A, value: '{"operation": not json' });
    await bus.publish({ topic: A, value: bytes, key: 'k-1' });

    await eventually(() => expect(received).toHaveLength(2));
    expect(received[0]).toEqual({ topic: A, value: '{"operation": not json' });
    expect(received[1]?.value).toBe(bytes);
    expect(received[1]?.key).toBe('k-1');
  });

  it('keeps delivering after a subscriber throws, and counts the failure', async () => {
    const bus = newBus();
    const seen: unknown[] = [];
    await bus.subscribe(A, async (m) => {
      seen.push(m.value);
      if (m.value === 'bad') throw new Error('subscriber exploded');
    });
    await bus.startConsuming();
    for (const v of ['one', 'bad', 'two', 'three']) await bus.publish({ topic: A, value: v });

    await eventually(() => expect(seen).toEqual(['one', 'bad', 'two', 'three']));
    const health = await bus.healthCheck();
    expect(health.subscriber_errors).toBe(1);
    expect(health.delivered).toBe(3);
    expect(health.healthy).toBe(true);
  });
});

describe('InMemoryEventBus: bounded queues', () => {
  it('makes publishers wait when a slow subscriber falls behind, so memory stays bounded', async () => {
    const bus = newBus(2);
    const slow = heldSubscriber();
    await bus.subscribe(A, slow.subscriber);
    await bus.startConsuming();

    // m1 is being delivered (held), m2 and m3 fill the queue of 2.
    await bus.publish({ topic: A, value: 'm1' });
    await bus.publish({ topic: A, value: 'm2' });
    await bus.publish({ topic: A, value: 'm3' });
    const p4 = bus.publish({ topic: A, value: 'm4' });
    const p5 = bus.publish({ topic: A, value: 'm5' });

    expect(await isSettled(p4)).toBe(false);
    expect(await isSettled(p5)).toBe(false);
    expect(bus.depth(A)).toBe(2);
    expect((await bus.healthCheck()).queue_depth).toEqual({ [A]: 2 });
    expect(values(slow.received)).toEqual(['m1']);

    // The subscriber takes one more: exactly one waiting publisher gets in.
    slow.releaseNext();
    await eventually(() => expect(values(slow.received)).toEqual(['m1', 'm2']));
    expect(await isSettled(p4)).toBe(true);
    expect(await isSettled(p5)).toBe(false);
    expect(bus.depth(A)).toBe(2);

    slow.releaseAll();
    await Promise.all([p4, p5]);
    await eventually(() => expect(values(slow.received)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']));
    expect(bus.depth(A)).toBe(0);
  });

  it('bounds a subscription that is not consuming yet: the 3rd publish waits until delivery starts', async () => {
    const bus = newBus(2);
    const { received, subscriber } = recorder();
    await bus.subscribe(A, subscriber);
    await bus.publish({ topic: A, value: 'm1' });
    await bus.publish({ topic: A, value: 'm2' });
    const p3 = bus.publish({ topic: A, value: 'm3' });
    expect(await isSettled(p3)).toBe(false);
    expect(bus.depth(A)).toBe(2);

    await bus.startConsuming();
    await p3;
    await eventually(() => expect(values(received)).toEqual(['m1', 'm2', 'm3']));
  });

  it('bounds the backlog of a topic nobody subscribed to; the first subscriber releases the waiting publisher', async () => {
    const bus = newBus(2);
    await bus.publish({ topic: A, value: 'm1' });
    await bus.publish({ topic: A, value: 'm2' });
    const p3 = bus.publish({ topic: A, value: 'm3' });
    expect(await isSettled(p3)).toBe(false);
    expect(bus.depth(A)).toBe(2);

    const { received, subscriber } = recorder();
    await bus.subscribe(A, subscriber);
    await bus.startConsuming();
    await p3;
    await bus.publish({ topic: A, value: 'm4' });
    await eventually(() => expect(values(received)).toEqual(['m1', 'm2', 'm3', 'm4']));
  });
});

describe('InMemoryEventBus: unsubscribe', () => {
  it('returns undelivered messages to the topic, where a later subscriber receives them in order', async () => {
    const bus = newBus();
    const leaving = heldSubscriber();
    const subscription = await bus.subscribe(A, leaving.subscriber);
    await bus.startConsuming();
    for (const n of [1, 2, 3]) await bus.publish({ topic: A, value: `m${n}` });
    await eventually(() => expect(values(leaving.received)).toEqual(['m1']));

    const unsubscribed = subscription.unsubscribe();
    // The delivery in progress finishes; nothing more goes to the departed subscriber.
    leaving.releaseAll();
    await unsubscribed;
    await subscription.unsubscribe(); // idempotent
    expect(values(leaving.received)).toEqual(['m1']);
    expect(bus.depth(A)).toBe(2);

    const next = recorder();
    await bus.subscribe(A, next.subscriber);
    await eventually(() => expect(values(next.received)).toEqual(['m2', 'm3']));
    expect(values(leaving.received)).toEqual(['m1']);
  });

  it('does not duplicate messages to the remaining subscriber when one of two leaves', async () => {
    const bus = newBus();
    const leaving = heldSubscriber();
    const staying = recorder();
    const subscription = await bus.subscribe(A, leaving.subscriber);
    await bus.subscribe(A, staying.subscriber);
    await bus.startConsuming();
    for (const n of [1, 2, 3]) await bus.publish({ topic: A, value: `m${n}` });
    await eventually(() => expect(values(staying.received)).toEqual(['m1', 'm2', 'm3']));

    const unsubscribed = subscription.unsubscribe();
    leaving.releaseAll();
    await unsubscribed;
    await settle();
    expect(values(staying.received)).toEqual(['m1', 'm2', 'm3']);
    expect(bus.depth(A)).toBe(0);
    expect((await bus.healthCheck()).subscriptions).toBe(1);
  });
});

describe('InMemoryEventBus: health and shutdown', () => {
  it('reports its state in healthCheck', async () => {
    const bus = newBus();
    expect(await bus.healthCheck()).toEqual({
      healthy: true,
      kind: 'inmemory',
      consuming: false,
      subscriptions: 0,
      delivered: 0,
      unsettled: 0,
      dead_letters: 0,
      subscriber_errors: 0,
      queue_depth: {},
      max_queue_size: 1000,
    });

    await bus.publish({ topic: B, value: 'waiting' });
    const { subscriber } = recorder();
    await bus.subscribe(A, subscriber);
    await bus.startConsuming();
    await bus.publish({ topic: A, value: 'x' });
    await eventually(async () => expect((await bus.healthCheck()).delivered).toBe(1));
    expect(await bus.healthCheck()).toEqual({
      healthy: true,
      kind: 'inmemory',
      consuming: true,
      subscriptions: 1,
      delivered: 1,
      // The recorder accepts messages but never settles them.
      unsettled: 1,
      dead_letters: 0,
      subscriber_errors: 0,
      queue_depth: { [A]: 0, [B]: 1 },
      max_queue_size: 1000,
    });

    await bus.shutdown();
    expect((await bus.healthCheck()).healthy).toBe(false);
  });

  it('on shutdown fails waiting publishers, refuses new work with SHUTTING_DOWN, stops delivery, and is idempotent', async () => {
    const bus = newBus(1);
    const held = heldSubscriber();
    await bus.subscribe(A, held.subscriber);
    await bus.startConsuming();
    await bus.publish({ topic: A, value: 'm1' }); // being delivered
    await bus.publish({ topic: A, value: 'm2' }); // fills the queue of 1
    const waiting = bus.publish({ topic: A, value: 'm3' });
    const waitingBacklog = (async () => {
      await bus.publish({ topic: B, value: 'b1' });
      await bus.publish({ topic: B, value: 'b2' }); // backlog of 1 is full
    })();
    await eventually(() => expect(values(held.received)).toEqual(['m1']));

    const stopped = bus.shutdown();
    for (const pending of [waiting, waitingBacklog]) {
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ShuttingDownError);
      expect(error).toMatchObject({ code: 'SHUTTING_DOWN', retryable: true });
    }
    // Shutdown lets the delivery in progress finish.
    held.releaseAll();
    await stopped;
    await bus.shutdown();

    await expect(bus.publish({ topic: A, value: 'late' })).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await expect(bus.publishEnvelope(requestFactory()({ operation: 'http.get' }), A)).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(bus.subscribe(A, async () => undefined)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await expect(bus.startConsuming()).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await settle();
    expect(values(held.received)).toEqual(['m1']);
  });
});

describe('InMemoryEventBus: settlement', () => {
  it('publishes the outputs of a settled message, counts dead letters, and reports readiness', async () => {
    const bus = newBus();
    expect(bus.readiness()).toEqual({ ready: false, reason: 'not consuming yet' });
    const out = recorder();
    await bus.subscribe(B, out.subscriber);
    const settled: Promise<void>[] = [];
    await bus.subscribe(A, async (m) => {
      const envelope = createRequestEnvelope({ operation: 'x.y', payload: String(m.value) });
      settled.push(
        m.value === 'bad'
          ? m.settle({ kind: 'dead_letter', outputs: [{ topic: B, envelope }], reason: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'bad', attempts: 1 } })
          : m.settle({ kind: 'processed', outputs: [{ topic: B, envelope }] }),
      );
    });
    await bus.startConsuming();
    expect(bus.readiness()).toEqual({ ready: true });
    await bus.publish({ topic: A, value: 'good' });
    await bus.publish({ topic: A, value: 'bad' });
    await eventually(() => expect(out.received).toHaveLength(2));
    await Promise.all(settled);
    expect(out.received.map((m) => (m.value as { payload: unknown }).payload)).toEqual(['good', 'bad']);
    const health = await bus.healthCheck();
    expect(health).toMatchObject({ unsettled: 2, dead_letters: 1 });
    // The two outputs on B were delivered to the recorder, which never settles them; A's two are settled.
    await bus.shutdown();
    expect(bus.readiness()).toEqual({ ready: false, reason: 'the in-memory bus is shut down' });
  });
});
