/**
 * Kafka test kit: unique topics per test, a plain kafkajs producer and reader acting as
 * clients nobody wrote for this project, and waiting helpers. Everything it opens, `close()`
 * closes.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import { KAFKA_BROKERS } from './kafka-server.js';

export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

export interface TopicSet {
  readonly input: string;
  readonly output: string;
  readonly deadLetter: string;
  readonly group: string;
}

export class KafkaKit {
  readonly brokers: string[];
  readonly kafka: Kafka;
  readonly #producers: Producer[] = [];
  readonly #consumers: Consumer[] = [];
  readonly #topics: string[] = [];

  constructor(brokers = KAFKA_BROKERS) {
    this.brokers = brokers.split(',');
    this.kafka = new Kafka({ clientId: 'onex-test-client', brokers: this.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
  }

  /**
   * Fresh input/output/dead-letter topics and a group name for one test. `inputConfig` sets
   * topic configs of the input topic only (e.g. `max.message.bytes`); the others keep the defaults.
   */
  async topics(partitions = 1, label = 'it', inputConfig: Readonly<Record<string, string>> = {}): Promise<TopicSet> {
    const id = `${label}${randomUUID().slice(0, 8)}`;
    const set: TopicSet = { input: `onex.test.${id}.cmd.v1`, output: `onex.test.${id}.evt.v1`, deadLetter: `onex.test.${id}.error.v1`, group: `onex-test-${id}` };
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [set.input, set.output, set.deadLetter].map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          ...(topic === set.input ? { configEntries: Object.entries(inputConfig).map(([name, value]) => ({ name, value })) } : {}),
        })),
      });
    } finally {
      await admin.disconnect();
    }
    this.#topics.push(set.input, set.output, set.deadLetter);
    return set;
  }

  async producer(): Promise<Producer> {
    const p = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    this.#producers.push(p);
    return p;
  }

  /** Reads every record of `topic` from the beginning into the returned array, as it arrives. */
  async reader(topic: string, options: { readCommitted?: boolean } = {}): Promise<ReadRecord[]> {
    const records: ReadRecord[] = [];
    const consumer = this.kafka.consumer({ groupId: `onex-test-reader-${randomUUID()}`, readUncommitted: options.readCommitted === false, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
        records.push({ topic: t, partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers });
      },
    });
    await ready;
    this.#consumers.push(consumer);
    return records;
  }

  /** Committed offset of `group` per partition of `topic` (-1 when none). */
  async committed(group: string, topic: string): Promise<Map<number, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    } finally {
      await admin.disconnect();
    }
  }

  async highWatermarks(topic: string): Promise<Map<number, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#producers.map((p) => p.disconnect()), ...this.#consumers.map((c) => c.disconnect())]);
    if (this.#topics.length > 0) {
      const admin = this.kafka.admin();
      await admin.connect().catch(() => undefined);
      await admin.deleteTopics({ topics: this.#topics.splice(0) }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** Polls `check` until it stops throwing, or fails with its last error after `timeoutMs`. */
export async function waitFor(check: () => void | Promise<void>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}

/** A wire envelope as an outside producer writes it. */
export function wireEnvelope(fields: { operation: string; payload?: unknown; correlation_id?: string; target_node?: string; envelope_id?: string; metadata?: Record<string, string> }): { id: string; correlation: string; text: string } {
  const id = fields.envelope_id ?? randomUUID();
  const correlation = fields.correlation_id ?? randomUUID();
  const text = JSON.stringify({
    envelope_id: id,
    envelope_version: '1.0.0',
    correlation_id: correlation,
    operation: fields.operation,
    payload: fields.payload ?? {},
    metadata: fields.metadata ?? {},
    timestamp: new Date().toISOString(),
    is_response: false,
    ...(fields.target_node === undefined ? {} : { target_node: fields.target_node }),
  });
  return { id, correlation, text };
}
