/**
 * The kafkajs 2.2 implementation of `KafkaClient`: the only file that imports kafkajs.
 * Facts it relies on (see docs/kafka.md): autoCommit off and eachBatchAutoResolve off, so
 * kafkajs never commits and `resolveOffset` only moves the fetch position; an idempotent
 * producer requires `acks: -1`; a consumer that crashes without restarting must be rebuilt.
 */
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type IHeaders, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from '../../logging/logger.js';
import type { Scheduler, TimerHandle } from '../../runtime/scheduler.js';
import type { ConsumerEvents, KafkaClient, OutboundRecord, TopicPartitionOffset } from './kafka-client.js';

export interface KafkajsClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly fromBeginning: boolean;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
}

/** kafkajs logs through the host's logger, warnings and errors only, tagged with their namespace. */
function logCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafkajs: true, namespace: extra.namespace as unknown, broker: extra.broker as unknown, error: extra.error as unknown, group_id: extra.groupId as unknown };
      if (level === logLevel.ERROR) logger.error(fields, `kafka: ${message}`);
      else if (level === logLevel.WARN) logger.warn(fields, `kafka: ${message}`);
    };
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

/** Records grouped by topic, as kafkajs's sendBatch takes them. */
function topicMessages(records: readonly OutboundRecord[]): { topic: string; messages: { key: string | Buffer | null; value: string; headers: Record<string, string> }[] }[] {
  const byTopic = new Map<string, { key: string | Buffer | null; value: string; headers: Record<string, string> }[]>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    const key = r.key instanceof Uint8Array ? Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength) : r.key;
    list.push({ key, value: r.value, headers: { ...r.headers } });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export class KafkajsClient implements KafkaClient {
  readonly brokers: readonly string[];
  readonly #options: KafkajsClientOptions;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #admin: Admin;
  #adminConnected: Promise<void> | undefined;
  #consumer: Consumer | undefined;
  #topic: string | undefined;
  #events: ConsumerEvents | undefined;
  #stopping = false;
  #restart: TimerHandle | undefined;
  #restartDelayMs = 1_000;
  #paused = false;
  readonly #txProducers = new Map<number, Promise<Producer>>();

  constructor(options: KafkajsClientOptions) {
    this.#options = options;
    this.brokers = options.brokers;
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      logLevel: logLevel.WARN,
      logCreator: logCreator(options.logger),
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
    });
    // Idempotent with acks=all (kafkajs refuses idempotence with other acks); one request in
    // flight, which kafkajs needs for idempotence. Unlimited retries (kafkajs's own default
    // for idempotence; a cap could break its sequence numbers): a send waits out a broker
    // restart instead of failing, and the settlement waiting on it simply takes longer.
    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
    });
    // Health probes must fail fast rather than retry through an outage. An admin built from
    // the main client inherits its connection retries (a probe then hung 22 s with the broker
    // down), so it gets a client of its own.
    this.#admin = new Kafka({
      clientId: `${options.clientId}-probe`,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin({ retry: { retries: 0 } });
  }

  async connectProducer(): Promise<void> {
    await this.#producer.connect();
  }

  async send(records: readonly OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#producer.sendBatch({ acks: -1, topicMessages: topicMessages(records) });
  }

  async #adminReady(): Promise<Admin> {
    this.#adminConnected ??= this.#admin.connect().catch((error: unknown) => {
      this.#adminConnected = undefined;
      throw error;
    });
    await this.#adminConnected;
    return this.#admin;
  }

  async missingTopics(topics: readonly string[]): Promise<string[]> {
    const existing = new Set(await (await this.#adminReady()).listTopics());
    return topics.filter((t) => !existing.has(t));
  }

  async groupOffsets(topic: string): Promise<Map<number, bigint>> {
    const [entry] = await (await this.#adminReady()).fetchOffsets({ groupId: this.#options.groupId, topics: [topic] });
    // kafkajs reports "-1" for a partition without a committed offset.
    return new Map((entry?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, BigInt(p.offset)]));
  }

  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    const offsets = await (await this.#adminReady()).fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  async startConsumer(topic: string, events: ConsumerEvents): Promise<void> {
    this.#topic = topic;
    this.#events = events;
    await this.#run();
  }

  async #run(): Promise<void> {
    const topic = this.#topic;
    const events = this.#events;
    if (topic === undefined || events === undefined || this.#stopping) return;
    const o = this.#options;
    const consumer = this.#kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      // Short fetch waits keep liveness signals coming on an idle topic.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      // A consumer that runs out of retries crashes; we rebuild it ourselves (below).
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    const { GROUP_JOIN, REBALANCING, CRASH, FETCH, HEARTBEAT } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      this.#restartDelayMs = 1_000;
      const assignment = Object.entries(e.payload.memberAssignment).flatMap(([t, partitions]) => partitions.map((partition) => ({ topic: t, partition })));
      // Pause state does not survive a crash-restart; it is re-applied on every join.
      if (this.#paused) consumer.pause([{ topic }]);
      events.onGroupJoin(assignment, e.payload.memberId);
    });
    consumer.on(REBALANCING, () => events.onRebalancing());
    consumer.on(FETCH, () => events.onAlive());
    consumer.on(HEARTBEAT, () => events.onAlive());
    consumer.on(CRASH, (e) => {
      events.onCrash(e.payload.error);
      // kafkajs gives up on this consumer: build a new one.
      if (!e.payload.restart) this.#scheduleRebuild(consumer, events);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        await events.onBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: headerText(m.headers),
            })),
          },
          { resolveOffset, heartbeat, isActive: () => isRunning() && !isStale() },
        );
      },
    });
  }

  /**
   * Replaces a consumer kafkajs gave up on, after a growing pause (1 s to 30 s). A rebuild
   * that fails (the broker is still away) schedules the next one: the host consumes again
   * however long the outage lasted.
   */
  #scheduleRebuild(failed: Consumer, events: ConsumerEvents): void {
    if (this.#stopping) return;
    const delay = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(this.#restartDelayMs * 2, 30_000);
    this.#restart?.cancel();
    this.#restart = this.#options.scheduler.setTimeout(() => {
      failed
        .disconnect()
        .catch(() => undefined)
        .then(() => this.#run())
        .catch((error: unknown) => {
          events.onCrash(error);
          if (this.#consumer !== undefined) this.#scheduleRebuild(this.#consumer, events);
        });
    }, delay);
  }

  pause(topic: string): void {
    this.#paused = true;
    try {
      this.#consumer?.pause([{ topic }]);
    } catch {
      // Between a crash and its restart kafkajs refuses pause; the join re-applies it.
    }
  }

  resume(topic: string): void {
    this.#paused = false;
    try {
      this.#consumer?.resume([{ topic }]);
    } catch {
      // As for pause: nothing to resume until the consumer runs again.
    }
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || offsets.length === 0) return;
    await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
  }

  #txProducer(partition: number): Promise<Producer> {
    let producer = this.#txProducers.get(partition);
    if (!producer) {
      const o = this.#options;
      const p = this.#kafka.producer({
        // Stable per input partition: whoever owns the partition next fences this one.
        transactionalId: `${o.groupId}.${this.#topic ?? 'input'}.${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
      });
      producer = p.connect().then(() => p);
      producer.catch(() => this.#txProducers.delete(partition));
      this.#txProducers.set(partition, producer);
    }
    return producer;
  }

  async commitTransaction(partition: number, records: readonly OutboundRecord[], offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const producer = await this.#txProducer(partition);
    const tx = await producer.transaction();
    try {
      if (records.length > 0) await tx.sendBatch({ acks: -1, topicMessages: topicMessages(records) });
      if (offsets.length > 0) {
        await tx.sendOffsets({ consumerGroupId: this.#options.groupId, topics: [{ topic: offsets[0]?.topic ?? '', partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) }] });
      }
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      // A failed commit or abort can leave a kafkajs producer stuck mid-transaction: rebuild it.
      this.#txProducers.delete(partition);
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async releasePartition(partition: number): Promise<void> {
    const producer = this.#txProducers.get(partition);
    this.#txProducers.delete(partition);
    if (producer) await (await producer).disconnect().catch(() => undefined);
  }

  async stopConsumer(): Promise<void> {
    this.#stopping = true;
    this.#restart?.cancel();
    // disconnect = stop fetching, wait for the batch in hand, leave the group.
    await this.#consumer?.disconnect();
  }

  async disconnect(): Promise<void> {
    this.#stopping = true;
    this.#restart?.cancel();
    const tx = [...this.#txProducers.keys()].map((p) => this.releasePartition(p));
    await Promise.allSettled([this.#consumer?.disconnect(), this.#producer.disconnect(), this.#adminConnected ? this.#admin.disconnect() : undefined, ...tx]);
  }
}
