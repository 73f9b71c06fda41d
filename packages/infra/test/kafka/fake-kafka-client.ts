/**
 * An in-memory KafkaClient the unit tests drive by hand, standing in for kafkajs: it records
 * what the bus produced, committed, paused and resumed; the test hands it batches (through
 * the `onBatch` the bus registered), fires group joins, rebalances and crashes, and makes
 * sends, commits and broker probes fail when it wants.
 */
import type {
  BatchControl,
  ConsumerEvents,
  KafkaClient,
  KafkaRecord,
  OutboundRecord,
  TopicPartition,
  TopicPartitionOffset,
} from '../../src/event-bus/kafka/kafka-client.js';
import { Deferred } from '../runtime/fakes.js';

/** The error kafkajs raises from `heartbeat()` / `commitOffsets()` when the group rebalances. */
export function rebalanceError(): Error & { type: string; retriable: boolean } {
  return Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { name: 'KafkaJSProtocolError', type: 'REBALANCE_IN_PROGRESS', retriable: false });
}

/** A kafkajs-shaped connection failure (retryable). */
export function connectionError(message = 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'): Error {
  return Object.assign(new Error(message), { name: 'KafkaJSConnectionError', retriable: true });
}

export interface RecordInit {
  readonly partition?: number;
  readonly offset: number | string;
  /** Text (UTF-8) or raw bytes; `null` for a record without one. @default null */
  readonly key?: string | Uint8Array | null;
  /** Text (UTF-8) or raw bytes. @default "{}" */
  readonly value?: string | Uint8Array | null;
  readonly headers?: Record<string, string>;
}

export type BatchOutcome = { readonly status: 'returned' } | { readonly status: 'threw'; readonly error: unknown };

/** One batch handed to the bus, and what the bus did with it. */
export interface DeliveredBatch {
  /** Offsets the bus resolved (moved the fetch position past), in call order. */
  readonly resolved: string[];
  /** How `onBatch` ended; never rejects, so an awaited rebalance error is not "unhandled". */
  readonly outcome: Promise<BatchOutcome>;
  /** With `holdHeartbeat`: answer the pending heartbeat with a rebalance error. */
  rebalance(): void;
  /** With `holdHeartbeat`: answer the pending heartbeat normally. */
  beat(): void;
}

const encoder = new TextEncoder();

export class FakeKafkaClient implements KafkaClient {
  readonly brokers: readonly string[];
  topics = new Set<string>();
  events: ConsumerEvents | undefined;
  consumedTopic: string | undefined;
  producerConnected = false;
  /** Every successful `send` call, in order. */
  readonly sends: OutboundRecord[][] = [];
  /** Every `send` call, including the failed ones. */
  sendAttempts = 0;
  /** Every successful `commit` call, in order. */
  readonly commits: TopicPartitionOffset[][] = [];
  /** `pause:<topic>` / `resume:<topic>` in call order. */
  readonly flowLog: string[] = [];
  paused = false;
  stopConsumerCalls = 0;
  disconnectCalls = 0;
  /** `commit:<p>=<offset>,…`, `stopConsumer`, `disconnect` in call order (what must happen before what). */
  readonly callLog: string[] = [];
  highWatermarkMap = new Map<number, bigint>();
  /** Each failing call takes the next error from the front; an empty queue means success. */
  readonly sendErrors: unknown[] = [];
  readonly commitErrors: unknown[] = [];
  /** While set, every probe (`highWatermarks`) rejects with it. */
  probeError: unknown;
  /** While set, every `send` waits for it (then fails or succeeds as usual). */
  #sendGate: Deferred | undefined;

  constructor(options: { brokers?: readonly string[]; topics?: readonly string[] } = {}) {
    this.brokers = options.brokers ?? ['broker-a.test:9092', 'broker-b.test:9092'];
    for (const t of options.topics ?? []) this.topics.add(t);
  }

  // ------------------------------------------------------------ KafkaClient

  async connectProducer(): Promise<void> {
    this.producerConnected = true;
  }

  async send(records: readonly OutboundRecord[]): Promise<void> {
    this.sendAttempts += 1;
    if (this.#sendGate) await this.#sendGate.promise;
    const error = this.sendErrors.shift();
    if (error !== undefined) throw error;
    this.sends.push([...records]);
  }

  async missingTopics(topics: readonly string[]): Promise<string[]> {
    return topics.filter((t) => !this.topics.has(t));
  }

  /** What `groupOffsets` answers: the group's offsets before this host committed anything. */
  groupOffsetMap = new Map<number, bigint>();

  async groupOffsets(_topic: string): Promise<Map<number, bigint>> {
    return new Map(this.groupOffsetMap);
  }

  async highWatermarks(_topic: string): Promise<Map<number, bigint>> {
    if (this.probeError !== undefined) throw this.probeError;
    return new Map(this.highWatermarkMap);
  }

  async startConsumer(topic: string, events: ConsumerEvents): Promise<void> {
    this.consumedTopic = topic;
    this.events = events;
  }

  pause(topic: string): void {
    this.paused = true;
    this.flowLog.push(`pause:${topic}`);
  }

  resume(topic: string): void {
    this.paused = false;
    this.flowLog.push(`resume:${topic}`);
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const error = this.commitErrors.shift();
    if (error !== undefined) throw error;
    this.commits.push(offsets.map((o) => ({ ...o })));
    this.callLog.push(`commit:${offsets.map((o) => `${o.partition}=${o.offset}`).join(',')}`);
  }

  /** Every committed transaction: its records and offsets. */
  readonly transactions: Array<{ partition: number; records: OutboundRecord[]; offsets: TopicPartitionOffset[] }> = [];
  readonly transactionErrors: unknown[] = [];
  readonly releasedPartitions: number[] = [];

  async commitTransaction(partition: number, records: readonly OutboundRecord[], offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const error = this.transactionErrors.shift();
    if (error !== undefined) throw error;
    this.transactions.push({ partition, records: [...records], offsets: offsets.map((o) => ({ ...o })) });
    this.callLog.push(`transaction:${partition}:${records.length}:${offsets.map((o) => o.offset).join(',')}`);
  }

  async releasePartition(partition: number): Promise<void> {
    this.releasedPartitions.push(partition);
  }

  async stopConsumer(): Promise<void> {
    this.stopConsumerCalls += 1;
    this.callLog.push('stopConsumer');
  }

  async disconnect(): Promise<void> {
    this.disconnectCalls += 1;
    this.callLog.push('disconnect');
  }

  // ------------------------------------------------------------ test controls

  /** Sends wait until `releaseSends()`. */
  holdSends(): void {
    this.#sendGate ??= new Deferred();
  }

  releaseSends(): void {
    this.#sendGate?.resolve();
    this.#sendGate = undefined;
  }

  /** The consumer joined the group with `partitions` of the consumed topic (plus any extra assignment). */
  join(partitions: readonly number[], memberId = 'member-1', extra: readonly TopicPartition[] = []): void {
    const topic = this.#consumer().topic;
    this.#consumer().events.onGroupJoin([...partitions.map((partition) => ({ topic, partition })), ...extra], memberId);
  }

  rebalancing(): void {
    this.#consumer().events.onRebalancing();
  }

  crash(error: unknown): void {
    this.#consumer().events.onCrash(error);
  }

  alive(): void {
    this.#consumer().events.onAlive();
  }

  /** A consumed record of the input topic. */
  record(init: RecordInit): KafkaRecord {
    const value = init.value === undefined ? '{}' : init.value;
    return {
      topic: this.#consumer().topic,
      partition: init.partition ?? 0,
      offset: String(init.offset),
      key: init.key === undefined || init.key === null ? null : typeof init.key === 'string' ? encoder.encode(init.key) : init.key,
      value: value === null ? null : typeof value === 'string' ? encoder.encode(value) : value,
      headers: init.headers ?? {},
    };
  }

  /**
   * Hands the bus one fetched batch of `partition`, as kafkajs's eachBatch would. With
   * `holdHeartbeat`, the bus's heartbeat stays pending until `beat()` or `rebalance()`;
   * with `rebalanceOnHeartbeat`, it rejects at once with a rebalance error.
   */
  deliver(
    records: readonly (RecordInit | KafkaRecord)[],
    options: { partition?: number; holdHeartbeat?: boolean; rebalanceOnHeartbeat?: boolean } = {},
  ): DeliveredBatch {
    const { topic, events } = this.#consumer();
    const partition = options.partition ?? records[0]?.partition ?? 0;
    const batchRecords = records.map((r) => (isKafkaRecord(r) ? r : this.record({ partition, ...r })));
    const resolved: string[] = [];
    const heartbeat = new Deferred();
    if (!options.holdHeartbeat) {
      if (options.rebalanceOnHeartbeat) heartbeat.reject(rebalanceError());
      else heartbeat.resolve();
    }
    // Keep an early rejection from counting as unhandled before the bus awaits it.
    heartbeat.promise.catch(() => undefined);
    const control: BatchControl = {
      resolveOffset: (offset) => {
        resolved.push(offset);
      },
      heartbeat: () => heartbeat.promise,
      isActive: () => true,
    };
    const outcome = events.onBatch({ topic, partition, records: batchRecords }, control).then(
      (): BatchOutcome => ({ status: 'returned' }),
      (error: unknown): BatchOutcome => ({ status: 'threw', error }),
    );
    return {
      resolved,
      outcome,
      rebalance: () => heartbeat.reject(rebalanceError()),
      beat: () => heartbeat.resolve(),
    };
  }

  /** Offsets committed for `partition`, in order. */
  committedOffsets(partition = 0): string[] {
    return this.commits.flatMap((c) => c.filter((o) => o.partition === partition).map((o) => o.offset));
  }

  /** Records produced to `topic` by successful sends, in order. */
  sentTo(topic: string): OutboundRecord[] {
    return this.sends.flat().filter((r) => r.topic === topic);
  }

  #consumer(): { topic: string; events: ConsumerEvents } {
    if (this.events === undefined || this.consumedTopic === undefined) throw new Error('FakeKafkaClient: the bus has not started its consumer yet');
    return { topic: this.consumedTopic, events: this.events };
  }
}

function isKafkaRecord(r: RecordInit | KafkaRecord): r is KafkaRecord {
  return typeof r.offset === 'string' && 'topic' in r;
}
