/**
 * The one small interface between the Kafka event bus and a Kafka client library. kafkajs
 * has no maintainer upstream: every kafkajs call lives in `kafkajs-client.ts` behind this
 * interface, so another client can replace it without touching the bus logic.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read (last finished + 1), as Kafka commits it. */
  readonly offset: string;
}

/** One consumed record. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** The records one fetch returned for one partition, in offset order. */
export interface KafkaBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly KafkaRecord[];
}

/** What the bus may do while it holds a batch. */
export interface BatchControl {
  /** Moves the fetch position past `offset`. Never commits. */
  resolveOffset(offset: string): void;
  /** Heartbeats if one is due; rejects with a rebalance error when the group rebalances. */
  heartbeat(): Promise<void>;
  /** False once the consumer stops or the batch went stale. */
  isActive(): boolean;
}

/** Consumer events the bus reacts to. None of them may throw. */
export interface ConsumerEvents {
  /** Hands over one batch; the consumer waits for the promise before its next fetch. */
  onBatch(batch: KafkaBatch, control: BatchControl): Promise<void>;
  /** The consumer (re)joined the group with this assignment (eager: it replaces the last one). */
  onGroupJoin(assignment: readonly TopicPartition[], memberId: string): void;
  /** A rebalance started: the assignment is about to be revoked. */
  onRebalancing(): void;
  /** The consumer crashed; the client restarts it (with backoff) unless it is stopping. */
  onCrash(error: unknown): void;
  /** A fetch or heartbeat round trip completed: the consumer is alive. */
  onAlive(): void;
}

/** One record to produce. */
export interface OutboundRecord {
  readonly topic: string;
  /** Text, or the exact bytes of an input record's key (passed through, never re-encoded). */
  readonly key: string | Uint8Array | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface KafkaClient {
  /** Brokers as `host:port`, for error targets and health (never credentials). */
  readonly brokers: readonly string[];
  /** Connects the producer: idempotent, `acks: all`. */
  connectProducer(): Promise<void>;
  /** Produces records; resolves once the broker acknowledged all of them. */
  send(records: readonly OutboundRecord[]): Promise<void>;
  /** Topics of `topics` that do not exist on the cluster. */
  missingTopics(topics: readonly string[]): Promise<string[]>;
  /** The consumer group's committed offset of each partition of `topic` (absent: none committed). */
  groupOffsets(topic: string): Promise<Map<number, bigint>>;
  /** Latest offset (high watermark) of each partition of `topic`. */
  highWatermarks(topic: string): Promise<Map<number, bigint>>;
  /** Joins the consumer group on `topic` and starts fetching; never auto-commits. */
  startConsumer(topic: string, events: ConsumerEvents): Promise<void>;
  /** Stops fetching `topic` until `resume` (the consumer keeps heartbeating). */
  pause(topic: string): void;
  resume(topic: string): void;
  /** Commits offsets for the current generation. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /**
   * Exactly-once: writes `records` and commits `offsets` for the consumer group in one
   * Kafka transaction, through the transactional producer of input `partition` (its
   * transactional id is stable per partition, so a new owner fences a zombie one). On
   * failure the transaction is aborted and the producer rebuilt; nothing became visible.
   */
  commitTransaction(partition: number, records: readonly OutboundRecord[], offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Closes the transactional producer of a partition this host no longer owns. */
  releasePartition(partition: number): Promise<void>;
  /** Stops the consumer and leaves the group. */
  stopConsumer(): Promise<void>;
  /** Closes every connection. */
  disconnect(): Promise<void>;
}

/** Whether `error` (from `BatchControl.heartbeat` or `commit`) means the group is rebalancing. */
export function isRebalanceError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const type = (error as { type?: unknown }).type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID';
}
