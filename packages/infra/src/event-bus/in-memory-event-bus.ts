import { ShuttingDownError, type OnexEnvelope } from '@onex/core';
import type { BusMessage, BusSubscriber, BusSubscription, EventBusHealth, EventBusReadiness, InboundMessage, MessageSettlement, ProtocolEventBus } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { assertNotInHandlerScope } from '../runtime/handler-scope.js';
import { BoundedQueue } from './bounded-queue.js';

export interface InMemoryEventBusOptions {
  /**
   * Capacity of each topic backlog and each subscription queue. A publisher waits when
   * a queue is full: memory stays bounded and pressure reaches the producer.
   * @default 1000
   */
  readonly maxQueueSize?: number;
  readonly logger?: Logger;
}

/**
 * A message in the in-memory bus. Settling it publishes its outputs here; the same object
 * is handed to every subscriber of its topic (fan-out), each of which settles it once.
 */
class InMemoryMessage implements InboundMessage {
  readonly topic: string;
  readonly value: BusMessage['value'];
  readonly key: string | undefined;
  readonly headers: BusMessage['headers'];
  readonly #bus: InMemoryEventBus;

  constructor(topic: string, value: BusMessage['value'], key: string | undefined, headers: BusMessage['headers'], bus: InMemoryEventBus) {
    this.topic = topic;
    this.value = value;
    this.key = key;
    this.headers = headers;
    this.#bus = bus;
  }

  settle(settlement: MessageSettlement): Promise<void> {
    return this.#bus.settleMessage(this, settlement);
  }
}

interface Subscription {
  readonly topic: string;
  readonly subscriber: BusSubscriber;
  readonly queue: BoundedQueue<InMemoryMessage>;
  active: boolean;
  pump: Promise<void> | undefined;
}

interface Topic {
  /** Messages published while nobody subscribed; the first subscriber receives them. */
  readonly backlog: BoundedQueue<InMemoryMessage>;
  readonly subscriptions: Subscription[];
}

const RESOLVED: Promise<void> = Promise.resolve();

const closedError = () =>
  new ShuttingDownError('The in-memory event bus is shut down', { hint: 'Publish before stopping the runtime host.' });

/**
 * An event bus inside one process, for development, tests and embedding. FIFO per
 * topic, several topics, fan-out to every subscriber of a topic, bounded queues.
 * Envelopes are passed by reference (never serialized), so it is fast; they are
 * read-only by type, and nothing here modifies them.
 */
export class InMemoryEventBus implements ProtocolEventBus {
  readonly kind = 'inmemory';
  /** Each message is delivered once per subscriber; a resend is a new publish. */
  readonly redelivers: boolean = false;
  readonly #maxQueueSize: number;
  readonly #logger: Logger;
  readonly #topics = new Map<string, Topic>();
  #consuming = false;
  #shutdown = false;
  #delivered = 0;
  #subscriberErrors = 0;
  /** Delivered and not yet settled. */
  #unsettled = 0;
  #deadLetters = 0;

  constructor(options: InMemoryEventBusOptions = {}) {
    this.#maxQueueSize = options.maxQueueSize ?? 1000;
    this.#logger = options.logger ?? silentLogger;
  }

  publishEnvelope(envelope: OnexEnvelope, topic: string): Promise<void> {
    // Through `publish`, so a subclass that observes publishing sees envelopes too.
    return this.publish({ topic, value: envelope, key: envelope.correlationId });
  }

  /** Publishes a message as-is (raw text included); what a network transport would deliver. */
  publish(busMessage: BusMessage): Promise<void> {
    try {
      assertNotInHandlerScope('publish');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#shutdown) return Promise.reject(closedError());
    const message = new InMemoryMessage(busMessage.topic, busMessage.value, busMessage.key, busMessage.headers, this);
    const topic = this.#topic(message.topic);
    const live = topic.subscriptions;
    if (live.length === 0) return topic.backlog.put(message);
    // Most publishes find room everywhere; only a full queue costs a promise to wait on.
    let waits: Promise<void>[] | undefined;
    for (const sub of live) {
      if (!sub.queue.offer(message)) (waits ??= []).push(sub.queue.put(message));
    }
    return waits === undefined ? RESOLVED : waits.length === 1 ? (waits[0] as Promise<void>) : Promise.all(waits).then(() => undefined);
  }

  async subscribe(topicName: string, subscriber: BusSubscriber): Promise<BusSubscription> {
    assertNotInHandlerScope('subscribe');
    if (this.#shutdown) throw closedError();
    const topic = this.#topic(topicName);
    const sub: Subscription = { topic: topicName, subscriber, queue: new BoundedQueue(this.#maxQueueSize), active: true, pump: undefined };
    if (topic.subscriptions.length === 0) {
      // The first subscriber inherits what was published before anyone listened.
      for (const m of topic.backlog.drainAll()) sub.queue.put(m).catch(() => undefined);
    }
    topic.subscriptions.push(sub);
    if (this.#consuming) sub.pump = this.#pump(sub);
    return { topic: topicName, unsubscribe: () => this.#unsubscribe(topic, sub) };
  }

  /**
   * Finishes a delivered message: publishes its outputs (in process they are durable once
   * queued). A dead letter has nowhere to go in memory, so it is logged and counted; its
   * error envelope still reaches the output topic.
   * @internal called by the messages this bus delivers
   */
  settleMessage(message: InMemoryMessage, settlement: MessageSettlement): Promise<void> {
    this.#unsettled -= 1;
    if (settlement.kind === 'dead_letter') {
      this.#deadLetters += 1;
      this.#logger.warn(
        { topic: message.topic, correlation_id: settlement.reason.correlationId ?? message.key, error_code: settlement.reason.code, error_message: settlement.reason.message, attempts: settlement.reason.attempts },
        'dead letter (in-memory bus: logged, not stored)',
      );
    }
    const outputs = settlement.outputs;
    if (outputs.length === 0) return RESOLVED;
    if (outputs.length === 1) {
      const only = outputs[0] as (typeof outputs)[number];
      return this.publishEnvelope(only.envelope, only.topic);
    }
    return Promise.all(outputs.map((o) => this.publishEnvelope(o.envelope, o.topic))).then(() => undefined);
  }

  readiness(): EventBusReadiness {
    if (this.#shutdown) return { ready: false, reason: 'the in-memory bus is shut down' };
    return this.#consuming ? { ready: true } : { ready: false, reason: 'not consuming yet' };
  }

  async startConsuming(): Promise<void> {
    assertNotInHandlerScope('startConsuming');
    if (this.#shutdown) throw closedError();
    if (this.#consuming) return;
    this.#consuming = true;
    for (const topic of this.#topics.values()) for (const sub of topic.subscriptions) sub.pump ??= this.#pump(sub);
  }

  async healthCheck(): Promise<EventBusHealth> {
    const topics: Record<string, number> = {};
    let subscriptions = 0;
    for (const [name, t] of this.#topics) {
      topics[name] = t.backlog.size + t.subscriptions.reduce((n, s) => n + s.queue.size, 0);
      subscriptions += t.subscriptions.length;
    }
    return {
      healthy: !this.#shutdown,
      kind: this.kind,
      consuming: this.#consuming,
      subscriptions,
      delivered: this.#delivered,
      unsettled: this.#unsettled,
      dead_letters: this.#deadLetters,
      subscriber_errors: this.#subscriberErrors,
      queue_depth: topics,
      max_queue_size: this.#maxQueueSize,
    };
  }

  /** Messages waiting on `topic` (backlog plus every subscription queue). */
  depth(topic: string): number {
    const t = this.#topics.get(topic);
    return t ? t.backlog.size + t.subscriptions.reduce((n, s) => n + s.queue.size, 0) : 0;
  }

  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    // Whatever nobody consumed dies with the process: say so, with the ids to trace it.
    const undelivered = [...this.#topics.values()].flatMap((t) => [...t.backlog.clearQueued(), ...t.subscriptions.flatMap((s) => s.queue.clearQueued())]);
    if (this.#unsettled > 0) {
      this.#logger.warn({ unsettled: this.#unsettled }, 'in-memory bus shut down with delivered messages never settled; their outputs are lost with the process');
    }
    if (undelivered.length > 0) {
      this.#logger.warn(
        { undelivered: undelivered.length, topics: [...new Set(undelivered.map((m) => m.topic))], correlation_ids: undelivered.slice(0, 20).map((m) => m.key ?? null) },
        'in-memory bus shut down with undelivered messages; they are discarded',
      );
    }
    const pumps: Promise<void>[] = [];
    for (const topic of this.#topics.values()) {
      topic.backlog.close(closedError);
      for (const sub of topic.subscriptions) {
        sub.active = false;
        sub.queue.close(closedError);
        if (sub.pump) pumps.push(sub.pump);
      }
    }
    await Promise.all(pumps);
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = { backlog: new BoundedQueue(this.#maxQueueSize), subscriptions: [] };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  async #pump(sub: Subscription): Promise<void> {
    for (;;) {
      const message = sub.queue.poll() ?? (await sub.queue.take());
      if (message === undefined || !sub.active) {
        if (message !== undefined) this.#requeue(sub, [message]);
        return;
      }
      try {
        this.#unsettled += 1;
        await sub.subscriber(message);
        this.#delivered += 1;
      } catch (error) {
        // A subscriber failure must not kill the pump or lose the following messages.
        this.#unsettled -= 1;
        this.#subscriberErrors += 1;
        this.#logger.error({ err: error, topic: sub.topic, correlation_id: message.key }, 'in-memory bus subscriber failed');
      }
    }
  }

  async #unsubscribe(topic: Topic, sub: Subscription): Promise<void> {
    if (!sub.active) return;
    sub.active = false;
    const index = topic.subscriptions.indexOf(sub);
    if (index !== -1) topic.subscriptions.splice(index, 1);
    const undelivered = sub.queue.drainAll();
    sub.queue.close(closedError);
    await sub.pump;
    this.#requeue(sub, undelivered);
  }

  /** Messages a departing subscriber never saw go back to the topic, not to /dev/null. */
  #requeue(sub: Subscription, messages: InMemoryMessage[]): void {
    if (messages.length === 0 || this.#shutdown) return;
    const topic = this.#topic(sub.topic);
    if (topic.subscriptions.length > 0) return; // the remaining subscribers got their own copies
    for (const m of messages) topic.backlog.put(m).catch(() => undefined);
  }
}
