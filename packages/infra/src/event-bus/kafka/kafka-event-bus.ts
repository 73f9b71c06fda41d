/**
 * The Kafka event bus: at-least-once delivery that never commits ahead of processing.
 *
 * - Records are taken from each fetched batch into per-partition progress and per-key
 *   lanes. A key's next record is delivered only after the previous one settled, so a key
 *   keeps its order; different keys of a partition run in parallel (the host's slots).
 * - A record is finished when its settlement's outputs (response, dead-letter record) are
 *   acknowledged by the broker. Each commit tick commits every partition's contiguous
 *   watermark. Nothing is auto-committed.
 * - Fetching pauses at `pause_consumption_threshold` unfinished records and resumes at
 *   half; no more than `max_inflight_envelopes` are ever held, whatever producers write.
 * - A rebalance revokes everything (kafkajs is eager): queued records of revoked partitions
 *   are released for their new owner, in-flight ones finish, their offsets are committed
 *   while the old generation still may, and stale commits are dropped.
 */
import { InternalError, EventBusError, serializeEnvelope, toOnexError, type KafkaBusTuning, type OnexEnvelope, type OnexError } from '@onex/core';
import type { BusSubscriber, BusSubscription, EventBusHealth, EventBusReadiness, InboundMessage, MessageSettlement, ProtocolEventBus } from '@onex/spi';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { systemScheduler, type Scheduler, type TimerHandle } from '../../runtime/scheduler.js';
import { deadLetterRecord } from './dead-letter-record.js';
import { isRebalanceError, type BatchControl, type KafkaBatch, type KafkaClient, type KafkaRecord, type OutboundRecord, type TopicPartition } from './kafka-client.js';
import { mapKafkaError } from './kafka-errors.js';
import { PartitionProgress, type TrackedOffset } from './partition-progress.js';
import { TRACEPARENT_KEY, TRACESTATE_KEY, parseTraceparent } from '../../tracing/trace-context.js';

export interface KafkaEventBusSettings {
  /**
   * `exactly_once`: outputs and input offsets go out together in one Kafka transaction per
   * partition and commit tick; `at_least_once`: outputs are acknowledged, then offsets committed.
   * @default 'at_least_once'
   */
  readonly delivery?: 'at_least_once' | 'exactly_once';
  /** The key of the answers to an input record: its own key, or their correlation id (`runtime.event_bus.config.output_key`). */
  readonly outputKey: KafkaBusTuning['outputKey'];
  readonly inputTopic: string;
  readonly deadLetterTopic: string;
  readonly consumerGroup: string;
  /** Names this host in dead-letter records. */
  readonly hostId: string;
  /** @default 100 */
  readonly maxInflightEnvelopes: number;
  /** @default 80 */
  readonly pauseConsumptionThreshold: number;
  /** @default 200 */
  readonly commitIntervalMs: number;
  /** @default 60000 */
  readonly stallTimeoutMs: number;
  /** How long a rebalance or shutdown waits for records in processing. @default 30000 */
  readonly drainTimeoutMs: number;
  /** How often the broker is probed for reachability and lag. @default 2000 */
  readonly probeIntervalMs?: number;
}

export interface KafkaEventBusOptions {
  readonly client: KafkaClient;
  readonly settings: KafkaEventBusSettings;
  readonly logger?: Logger;
  readonly scheduler?: Scheduler;
}

type ConsumerState = 'idle' | 'joining' | 'joined' | 'rebalancing' | 'crashed' | 'stopped';

/** One record taken in: where it is, its lane, and whether it reached the subscriber. */
interface Entry {
  readonly record: KafkaRecord;
  readonly progress: PartitionProgress;
  readonly tracked: TrackedOffset;
  readonly lane: string;
  delivered: boolean;
  /** settle() was called (its outputs may still be on their way). */
  settling: boolean;
  settled: boolean;
}

/**
 * The `correlation_id` of an envelope travels as a header, and as the record key unless
 * `key` names another (the key of the input record it answers); its W3C trace context
 * (`metadata.traceparent`/`tracestate`) as headers too, for tools that read Kafka headers
 * without parsing the body.
 */
export function envelopeRecord(envelope: OnexEnvelope, topic: string, key?: Uint8Array): OutboundRecord {
  const headers: Record<string, string> = { envelope_id: envelope.envelopeId, 'content-type': 'application/json' };
  if (envelope.correlationId !== undefined) headers.correlation_id = envelope.correlationId;
  const traceparent = envelope.metadata[TRACEPARENT_KEY];
  if (typeof traceparent === 'string' && parseTraceparent(traceparent) !== undefined) {
    headers[TRACEPARENT_KEY] = traceparent;
    const tracestate = envelope.metadata[TRACESTATE_KEY];
    if (typeof tracestate === 'string' && tracestate.length > 0) headers[TRACESTATE_KEY] = tracestate;
  }
  return { topic, key: key ?? envelope.correlationId ?? null, value: serializeEnvelope(envelope), headers };
}

/**
 * The key an input record's answers carry with `output_key: input`: its own bytes, so they
 * land on one output partition in the key's order. A record without a key has no order to
 * keep: its answers fall back to their correlation id (undefined here).
 */
function answerKey(record: KafkaRecord, outputKey: KafkaBusTuning['outputKey']): Uint8Array | undefined {
  return outputKey === 'input' && record.key !== null && record.key.length > 0 ? record.key : undefined;
}

const decoder = new TextDecoder();

/** Upper bound of one produce request's payload: half the broker's default message.max.bytes. */
const PRODUCE_REQUEST_BYTES = 512 * 1024;

/** Bytes the records add to a produce request, near enough (values exact, framing estimated). */
function recordBytes(records: readonly OutboundRecord[]): number {
  let n = 0;
  for (const r of records) {
    n += Buffer.byteLength(r.value) + (r.key?.length ?? 0) + 64;
    for (const [k, v] of Object.entries(r.headers)) n += k.length + v.length + 8;
  }
  return n;
}

/** What the next transaction of a partition carries, and who waits for it. */
interface PendingTransaction {
  readonly progress: PartitionProgress;
  readonly entries: Entry[];
  readonly records: OutboundRecord[];
  readonly waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export class KafkaEventBus implements ProtocolEventBus {
  readonly kind = 'kafka';
  /** At least once: a crash or a rebalance delivers uncommitted records again. */
  readonly redelivers = true;
  /** Never more than `max_inflight_envelopes` unfinished records: the host need not wait for acknowledgements. */
  readonly boundsUnsettled = true;
  readonly #client: KafkaClient;
  readonly #settings: KafkaEventBusSettings;
  readonly #logger: Logger;
  readonly #scheduler: Scheduler;
  #subscriber: BusSubscriber | undefined;
  #state: ConsumerState = 'idle';
  #memberId: string | undefined;
  readonly #partitions = new Map<number, PartitionProgress>();
  /** Lane key → records waiting behind the one in processing (the head). */
  readonly #lanes = new Map<string, Entry[]>();
  /** Records whose lane is free, waiting for the subscriber to accept them. */
  #ready: Entry[] = [];
  #pumping = false;
  /** Records taken in and not finished: the number pausing and the cap look at. */
  #unfinished = 0;
  #inProcessing = 0;
  #paused = false;
  /** No more deliveries (draining for shutdown); fetching stays paused. */
  #intakeStopped = false;
  /** A rebalance is in progress: hold deliveries until the new assignment is known. */
  #holding = false;
  #shutdown: Promise<void> | undefined;
  #commitTimer: TimerHandle | undefined;
  #probeTimer: TimerHandle | undefined;
  #committing: Promise<void> | undefined;
  #lastProgressAt: number;
  #lastAliveAt: number;
  #brokerError: string | undefined;
  #lastCrash: string | undefined;
  #lag = 0n;
  #highWatermarks = new Map<number, bigint>();
  #counts = { delivered: 0, finished: 0, deadLettered: 0, released: 0, duplicatesSkipped: 0, commits: 0, rebalances: 0, pauses: 0 };
  #idleWaiters: Array<() => void> = [];
  /** Settlements whose outputs are on their way to the broker, and who waits for none to be. */
  #sendsInFlight = 0;
  #sendWaiters: Array<() => void> = [];
  /** Batch handlers holding their batch until fetching resumes. */
  #capacityWaiters: Array<() => void> = [];
  /** Records waiting for the next produce request, with the settlements waiting on them. */
  #outbox: Array<{ readonly records: readonly OutboundRecord[]; readonly bytes: number; readonly resolve: () => void; readonly reject: (error: unknown) => void }> = [];
  #sending = false;
  /** Exactly-once: settled records per partition waiting for the next transaction. */
  readonly #transactions = new Map<number, PendingTransaction>();

  constructor(options: KafkaEventBusOptions) {
    this.#client = options.client;
    this.#settings = options.settings;
    this.#logger = options.logger ?? silentLogger;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#lastProgressAt = this.#scheduler.now();
    this.#lastAliveAt = this.#lastProgressAt;
  }

  // ---------------------------------------------------------------- publishing

  async publishEnvelope(envelope: OnexEnvelope, topic: string): Promise<void> {
    try {
      await this.#client.send([envelopeRecord(envelope, topic)]);
      this.#brokerError = undefined;
    } catch (error) {
      throw this.#mapError(error, `publish to ${topic}`);
    }
  }

  // ---------------------------------------------------------------- consuming

  async subscribe(topic: string, subscriber: BusSubscriber): Promise<BusSubscription> {
    if (topic !== this.#settings.inputTopic) {
      throw new EventBusError(`The Kafka event bus consumes only its input topic ${this.#settings.inputTopic}, not ${topic}`, {
        hint: 'Read output and dead-letter topics with a consumer of your own; the host publishes to them.',
      });
    }
    if (this.#subscriber !== undefined) throw new EventBusError(`${topic} already has a subscriber`, { hint: 'One runtime host consumes one input topic.' });
    this.#subscriber = subscriber;
    return { topic, unsubscribe: () => this.#stopIntake() };
  }

  async startConsuming(): Promise<void> {
    if (this.#subscriber === undefined) throw new EventBusError('Nothing subscribed to the input topic', { hint: 'Subscribe before startConsuming().' });
    if (this.#state !== 'idle') return;
    const s = this.#settings;
    try {
      await this.#client.connectProducer();
      const missing = await this.#client.missingTopics([s.inputTopic, s.deadLetterTopic]);
      if (missing.length > 0) {
        throw new EventBusError(`Kafka topic(s) ${missing.join(', ')} do not exist on ${this.#client.brokers.join(',')}`, {
          hint: 'Create them first (kafka-topics.sh --create --topic <name> --partitions <n>); the host does not create topics.',
        });
      }
      this.#state = 'joining';
      await this.#client.startConsumer(s.inputTopic, {
        onBatch: (batch, control) => this.#onBatch(batch, control),
        onGroupJoin: (assignment, memberId) => this.#onGroupJoin(assignment, memberId),
        onRebalancing: () => this.#onRebalancing(),
        onCrash: (error) => this.#onCrash(error),
        onAlive: () => {
          this.#lastAliveAt = this.#scheduler.now();
        },
      });
    } catch (error) {
      this.#state = 'crashed';
      throw this.#mapError(error, 'start consuming');
    }
    this.#commitTimer = this.#scheduler.setInterval(() => void this.#commit(), s.commitIntervalMs);
    this.#probeTimer = this.#scheduler.setInterval(() => void this.#probe(), s.probeIntervalMs ?? 2_000);
    void this.#probe();
  }

  async #onBatch(batch: KafkaBatch, control: BatchControl): Promise<void> {
    const progress = this.#partitions.get(batch.partition);
    if (progress === undefined || this.#intakeStopped) return;
    const s = this.#settings;
    for (const record of batch.records) {
      if (!control.isActive() || this.#intakeStopped) break;
      const offset = BigInt(record.offset);
      if (!progress.isNew(offset)) {
        // A refetch after a rebalance we survived: this record is already in hand.
        this.#counts.duplicatesSkipped += 1;
        control.resolveOffset(record.offset);
        continue;
      }
      if (this.#unfinished >= s.pauseConsumptionThreshold) {
        // Backpressure: hold this batch, and with it the fetch loop, until enough settles.
        // (kafkajs's own pause would drop the rest of the batch, to be fetched and decoded
        // again, and a fully paused consumer sleeps a whole fetch wait before it notices a
        // resume: that ran at 1% of a raw consume loop.)
        this.#pause();
        this.#pump();
        if (!(await this.#awaitCapacity(control)) || this.#partitions.get(batch.partition) !== progress) break;
      }
      // The hard cap, should the threshold have been raised to it.
      if (this.#unfinished >= s.maxInflightEnvelopes) break;
      this.#take(record, progress);
      control.resolveOffset(record.offset);
    }
    this.#pump();
    await this.#heartbeat(control);
  }

  /** Heartbeats (kafkajs throttles it); a rebalance first lets records in processing finish and commits. */
  async #heartbeat(control: BatchControl): Promise<void> {
    try {
      await control.heartbeat();
    } catch (error) {
      if (isRebalanceError(error)) await this.#quiesce('rebalance');
      throw error;
    }
  }

  /** Waits, heartbeating, until fetching resumes; false when intake stopped or the batch went stale meanwhile. */
  async #awaitCapacity(control: BatchControl): Promise<boolean> {
    while (this.#paused && !this.#intakeStopped && control.isActive()) {
      const woken = new AbortController();
      this.#capacityWaiters.push(() => woken.abort());
      await this.#scheduler.sleep(1_000, woken.signal);
      await this.#heartbeat(control);
    }
    return !this.#intakeStopped && control.isActive();
  }

  #take(record: KafkaRecord, progress: PartitionProgress): void {
    const key = record.key !== null && record.key.length > 0 ? decoder.decode(record.key) : record.headers.correlation_id;
    // Without a key there is nothing to order by: the record gets a lane of its own.
    const lane = key === undefined ? `${progress.partition}@${record.offset}` : `${progress.partition}:${key}`;
    const entry: Entry = { record, progress, tracked: progress.track(BigInt(record.offset)), lane, delivered: false, settling: false, settled: false };
    this.#unfinished += 1;
    const waiting = this.#lanes.get(lane);
    if (waiting) waiting.push(entry);
    else {
      this.#lanes.set(lane, [entry]);
      this.#ready.push(entry);
    }
  }

  /** Hands ready records to the subscriber, one acceptance at a time (its backpressure). */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void (async () => {
      try {
        while (this.#ready.length > 0 && !this.#intakeStopped && !this.#holding) {
          const entry = this.#ready.shift() as Entry;
          if (entry.settled || !this.#partitions.has(entry.progress.partition) || this.#partitions.get(entry.progress.partition) !== entry.progress) continue;
          entry.delivered = true;
          this.#inProcessing += 1;
          this.#counts.delivered += 1;
          try {
            await (this.#subscriber as BusSubscriber)(this.#inbound(entry));
          } catch (error) {
            this.#logger.error({ err: toOnexError(error).toLogFields(), partition: entry.record.partition, offset: entry.record.offset }, 'kafka subscriber refused a record; it stays unfinished and is delivered again after a restart');
          }
        }
      } finally {
        this.#pumping = false;
      }
    })();
  }

  #inbound(entry: Entry): InboundMessage {
    const r = entry.record;
    return {
      topic: r.topic,
      value: r.value ?? new Uint8Array(0),
      key: r.key === null ? undefined : decoder.decode(r.key),
      headers: r.headers,
      position: { partition: r.partition, offset: r.offset },
      settle: (settlement) => this.#settle(entry, settlement),
    };
  }

  async #settle(entry: Entry, settlement: MessageSettlement): Promise<void> {
    // Checked before the first await: a second call while the first one's outputs are in
    // flight would send them twice and advance the key's lane twice.
    if (entry.settling) throw new InternalError(`Record ${entry.record.partition}@${entry.record.offset} was settled twice`);
    entry.settling = true;
    const key = answerKey(entry.record, this.#settings.outputKey);
    const records = settlement.outputs.map((o) => envelopeRecord(o.envelope, o.topic, key));
    if (settlement.kind === 'dead_letter') {
      records.push(deadLetterRecord(entry.record, settlement.reason, this.#settings.deadLetterTopic, this.#settings.hostId, new Date(this.#scheduler.now())));
    }
    if (this.#settings.delivery === 'exactly_once') return this.#settleInTransaction(entry, records, settlement.kind === 'dead_letter');
    this.#sendsInFlight += 1;
    try {
      try {
        await this.#sendDurably(records, entry);
      } catch (error) {
        // The broker refuses the answer for good (e.g. larger than message.max.bytes): the
        // input is dead-lettered instead, so its partition does not stall behind it.
        const refused = this.#mapError(error, 'publish outputs');
        if (this.#shutdown !== undefined || refused.retryable) throw error;
        this.#logger.error({ partition: entry.record.partition, offset: entry.record.offset, err: refused.toLogFields() }, 'the broker refused the outputs of a record; dead-lettering the record instead');
        const correlationId = settlement.kind === 'dead_letter' ? settlement.reason.correlationId : settlement.outputs[0]?.envelope.correlationId;
        const reason = { code: refused.code, message: `its outputs were refused by the broker: ${refused.message}`, attempts: 1, ...(correlationId === undefined ? {} : { correlationId }) };
        await this.#sendDurably([deadLetterRecord(entry.record, reason, this.#settings.deadLetterTopic, this.#settings.hostId, new Date(this.#scheduler.now()))], entry);
      }
    } catch (error) {
      // Not durable (shutting down): the record stays unfinished, to be delivered again.
      entry.settling = false;
      throw error;
    } finally {
      this.#sendsInFlight -= 1;
      if (this.#sendsInFlight === 0) for (const w of this.#sendWaiters.splice(0)) w();
    }
    entry.settled = true;
    entry.tracked.done = true;
    this.#unfinished -= 1;
    this.#inProcessing -= 1;
    this.#counts.finished += 1;
    if (settlement.kind === 'dead_letter') this.#counts.deadLettered += 1;
    this.#lastProgressAt = this.#scheduler.now();
    this.#advanceLane(entry);
    if (this.#paused && this.#unfinished <= Math.floor(this.#settings.pauseConsumptionThreshold / 2)) this.#resume();
    if (this.#inProcessing === 0) for (const w of this.#idleWaiters.splice(0)) w();
    this.#pump();
  }

  /**
   * Exactly-once: the outputs join the partition's next transaction, which also commits the
   * input offsets; the settlement resolves when it committed. The key's next record may
   * start now: this partition's outputs leave in order through its one transactional producer.
   */
  #settleInTransaction(entry: Entry, records: readonly OutboundRecord[], deadLetter: boolean): Promise<void> {
    const partition = entry.progress.partition;
    let pending = this.#transactions.get(partition);
    if (pending === undefined || pending.progress !== entry.progress) {
      pending = { progress: entry.progress, entries: [], records: [], waiters: [] };
      this.#transactions.set(partition, pending);
    }
    pending.entries.push(entry);
    pending.records.push(...records);
    if (deadLetter) this.#counts.deadLettered += 1;
    this.#inProcessing -= 1;
    this.#advanceLane(entry);
    if (this.#inProcessing === 0) for (const w of this.#idleWaiters.splice(0)) w();
    this.#pump();
    const settled = new Promise<void>((resolve, reject) => (pending as PendingTransaction).waiters.push({ resolve, reject }));
    return settled;
  }

  /** One transaction per partition with settled records: their outputs plus the new watermark. */
  async #commitTransactions(): Promise<void> {
    for (const [partition, pending] of [...this.#transactions]) {
      if (pending.entries.length === 0) continue;
      // Taken out first: records settled while the transaction is out go in the next one.
      this.#transactions.delete(partition);
      for (const e of pending.entries) e.tracked.done = true;
      const at = pending.progress.watermark();
      const offsets = at === undefined ? [] : [{ topic: pending.progress.topic, partition, offset: at.toString() }];
      try {
        await this.#client.commitTransaction(partition, pending.records, offsets);
      } catch (error) {
        const later = this.#transactions.get(partition);
        if (this.#partitions.get(partition) !== pending.progress) {
          // The partition moved: its new owner processes these records again.
          for (const w of pending.waiters) w.reject(new EventBusError(`Partition ${partition} was revoked before its transaction committed; its new owner processes these records again`, { retryable: true }));
          continue;
        }
        this.#transactions.set(partition, {
          progress: pending.progress,
          entries: [...pending.entries, ...(later?.entries ?? [])],
          records: [...pending.records, ...(later?.records ?? [])],
          waiters: [...pending.waiters, ...(later?.waiters ?? [])],
        });
        this.#logger.warn({ partition, records: pending.records.length, err: this.#mapError(error, 'commit a transaction').toLogFields() }, 'kafka transaction failed and was aborted; retrying on the next tick');
        continue;
      }
      this.#brokerError = undefined;
      if (at !== undefined) pending.progress.committed = at;
      this.#counts.commits += 1;
      for (const e of pending.entries) {
        e.settled = true;
        this.#unfinished -= 1;
        this.#counts.finished += 1;
      }
      this.#lastProgressAt = this.#scheduler.now();
      for (const w of pending.waiters) w.resolve();
      if (this.#paused && this.#unfinished <= Math.floor(this.#settings.pauseConsumptionThreshold / 2)) this.#resume();
    }
  }

  /** Produces until the broker acknowledges; a broker outage is waited out, not turned into a loss. */
  async #sendDurably(records: readonly OutboundRecord[], entry: Entry): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.#produce(records);
        this.#brokerError = undefined;
        return;
      } catch (error) {
        const mapped = this.#mapError(error, 'publish outputs');
        if (this.#shutdown !== undefined || !mapped.retryable) throw mapped;
        this.#logger.warn({ partition: entry.record.partition, offset: entry.record.offset, retry_in_ms: delay, err: mapped.toLogFields() }, 'outputs not acknowledged by the broker yet; retrying');
        await this.#scheduler.sleep(delay);
      }
    }
  }

  /**
   * Group commit for produce requests: one request in flight (the idempotent producer
   * allows no more), and whatever settles meanwhile goes out together in the next one.
   */
  #produce(records: readonly OutboundRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outbox.push({ records, bytes: recordBytes(records), resolve, reject });
      if (!this.#sending) void this.#flushOutbox();
    });
  }

  async #flushOutbox(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#outbox.length > 0) {
        // One request carries at most PRODUCE_REQUEST_BYTES: a broker refuses a record batch
        // over its message.max.bytes (1 MiB by default), and that refusal is not retryable.
        let bytes = 0;
        let take = 0;
        while (take < this.#outbox.length && (take === 0 || bytes + (this.#outbox[take]?.bytes ?? 0) <= PRODUCE_REQUEST_BYTES)) {
          bytes += this.#outbox[take]?.bytes ?? 0;
          take += 1;
        }
        const batch = this.#outbox.splice(0, take);
        try {
          await this.#client.send(batch.flatMap((b) => b.records));
          for (const b of batch) b.resolve();
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  #advanceLane(entry: Entry): void {
    const lane = this.#lanes.get(entry.lane);
    if (!lane) return;
    if (lane[0] === entry) lane.shift();
    const next = lane[0];
    if (next === undefined) this.#lanes.delete(entry.lane);
    else this.#ready.push(next);
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#counts.pauses += 1;
    // Debug: under steady backpressure this happens many times a second (health counts them).
    this.#logger.debug({ unfinished: this.#unfinished, threshold: this.#settings.pauseConsumptionThreshold }, 'kafka consumption paused (backpressure)');
  }

  #resume(): void {
    if (!this.#paused || this.#intakeStopped) return;
    this.#paused = false;
    for (const wake of this.#capacityWaiters.splice(0)) wake();
    this.#logger.debug({ unfinished: this.#unfinished }, 'kafka consumption resumed');
  }

  // ---------------------------------------------------------------- group membership

  #onGroupJoin(assignment: readonly TopicPartition[], memberId: string): void {
    const mine = new Set(assignment.filter((a) => a.topic === this.#settings.inputTopic).map((a) => a.partition));
    const revoked = [...this.#partitions.keys()].filter((p) => !mine.has(p));
    for (const p of revoked) this.#revoke(p);
    // Releasing a revoked partition's queue may be what brings us under the mark: no settle
    // would come to resume fetching for the partitions we keep.
    if (this.#paused && this.#unfinished <= Math.floor(this.#settings.pauseConsumptionThreshold / 2)) this.#resume();
    for (const p of mine) if (!this.#partitions.has(p)) this.#partitions.set(p, new PartitionProgress(this.#settings.inputTopic, p));
    this.#memberId = memberId;
    this.#state = 'joined';
    this.#lastCrash = undefined;
    this.#holding = false;
    this.#lastProgressAt = this.#scheduler.now();
    this.#logger.info({ group: this.#settings.consumerGroup, member_id: memberId, partitions: [...mine].sort((a, b) => a - b), revoked }, 'kafka consumer joined the group');
    this.#pump();
    void this.#learnCommittedOffsets();
  }

  /** Where the group stands on newly assigned partitions, for lag and health before this host commits anything. */
  async #learnCommittedOffsets(): Promise<void> {
    try {
      const committed = await this.#client.groupOffsets(this.#settings.inputTopic);
      for (const [partition, offset] of committed) {
        const progress = this.#partitions.get(partition);
        if (progress !== undefined && progress.committed === undefined) progress.committed = offset;
      }
    } catch (error) {
      this.#logger.debug({ err: this.#mapError(error, 'read committed offsets').toLogFields() }, 'could not read the group offsets; lag shows once this host commits');
    }
  }

  /** A partition moved away: its queued records go to the new owner; its in-flight ones finish but commit nothing. */
  #revoke(partition: number): void {
    const progress = this.#partitions.get(partition);
    if (!progress) return;
    this.#partitions.delete(partition);
    let released = 0;
    for (const [key, lane] of this.#lanes) {
      if (lane[0]?.progress !== progress) continue;
      for (const e of lane) {
        if (!e.delivered) {
          released += 1;
          e.settled = true;
          this.#unfinished -= 1;
        }
      }
      const inFlight = lane.filter((e) => e.delivered && !e.settled);
      if (inFlight.length === 0) this.#lanes.delete(key);
      else this.#lanes.set(key, inFlight);
    }
    this.#ready = this.#ready.filter((e) => e.progress !== progress);
    this.#counts.released += released;
    const pending = this.#transactions.get(partition);
    if (pending !== undefined && pending.progress === progress) {
      this.#transactions.delete(partition);
      for (const w of pending.waiters) w.reject(new EventBusError(`Partition ${partition} was revoked before its transaction committed; its new owner processes these records again`, { retryable: true }));
    }
    if (this.#settings.delivery === 'exactly_once') void this.#client.releasePartition(partition);
    this.#logger.info({ partition, released, in_flight: progress.unfinished - released }, 'kafka partition revoked; queued records are left to the new owner');
  }

  #onRebalancing(): void {
    this.#state = 'rebalancing';
    this.#counts.rebalances += 1;
    // Commit what is finished while this generation may still commit.
    void this.#commit();
  }

  #onCrash(error: unknown): void {
    const mapped = this.#mapError(error, 'consume');
    this.#state = 'crashed';
    this.#lastCrash = mapped.message;
    this.#logger.error({ err: mapped.toLogFields() }, 'kafka consumer crashed; it is rebuilt and rejoins the group');
  }

  /** Before a revocation or a shutdown: deliver nothing new, let records in processing finish (bounded), commit. */
  async #quiesce(why: 'rebalance' | 'shutdown'): Promise<void> {
    this.#holding = true;
    const started = this.#scheduler.now();
    const inProcessing = this.#inProcessing;
    if (this.#inProcessing > 0) await this.#waitAtMostDrainTimeout(this.#idleWaiters);
    await this.#commit();
    this.#logger.info({ why, in_processing: inProcessing, finished: inProcessing - this.#inProcessing, still_processing: this.#inProcessing, waited_ms: this.#scheduler.now() - started }, 'kafka records in processing settled before letting go');
  }

  // ---------------------------------------------------------------- commits

  /** Commits each partition's watermark; one commit at a time. */
  #commit(): Promise<void> {
    if (this.#committing) return this.#committing;
    if (this.#settings.delivery === 'exactly_once') {
      this.#committing = this.#commitTransactions().finally(() => {
        this.#committing = undefined;
      });
      return this.#committing;
    }
    const offsets: { topic: string; partition: number; offset: string; progress: PartitionProgress; at: bigint }[] = [];
    for (const progress of this.#partitions.values()) {
      const at = progress.watermark();
      if (at !== undefined && (progress.committed === undefined || at > progress.committed)) {
        offsets.push({ topic: progress.topic, partition: progress.partition, offset: at.toString(), progress, at });
      }
    }
    if (offsets.length === 0) return Promise.resolve();
    this.#committing = (async () => {
      try {
        await this.#client.commit(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
        this.#counts.commits += 1;
        for (const o of offsets) o.progress.committed = o.at;
      } catch (error) {
        // Not fatal: the same (or a higher) watermark goes out on the next tick.
        const level = isRebalanceError(error) ? 'info' : 'warn';
        this.#logger[level]({ err: this.#mapError(error, 'commit offsets').toLogFields(), offsets: offsets.map((o) => `${o.partition}:${o.offset}`) }, 'kafka offset commit failed; retrying on the next tick');
      } finally {
        this.#committing = undefined;
      }
    })();
    return this.#committing;
  }

  // ---------------------------------------------------------------- health

  async #probe(): Promise<void> {
    if (this.#shutdown !== undefined) return;
    const limitMs = this.#settings.probeIntervalMs ?? 2_000;
    let timer: TimerHandle | undefined;
    try {
      // A probe that does not answer within its interval counts as failed: a broker that
      // vanished can leave requests hanging far longer than any timeout.
      this.#highWatermarks = await Promise.race([
        this.#client.highWatermarks(this.#settings.inputTopic),
        new Promise<never>((_resolve, reject) => {
          timer = this.#scheduler.setTimeout(() => reject(new EventBusError(`the broker did not answer a probe within ${limitMs} ms`)), limitMs);
        }),
      ]);
      this.#brokerError = undefined;
      let lag = 0n;
      for (const progress of this.#partitions.values()) {
        const high = this.#highWatermarks.get(progress.partition);
        // Nothing finished here yet: everything from the first record in hand is lag.
        const at = progress.watermark() ?? progress.committed ?? progress.firstOffset;
        if (high !== undefined && at !== undefined && high > at) lag += high - at;
      }
      this.#lag = lag;
    } catch (error) {
      this.#brokerError = this.#mapError(error, 'probe the broker').message;
    } finally {
      timer?.cancel();
    }
  }

  readiness(): EventBusReadiness {
    if (this.#shutdown !== undefined || this.#state === 'stopped') return { ready: false, reason: 'the Kafka bus is stopping' };
    if (this.#brokerError !== undefined) return { ready: false, reason: `Kafka broker unreachable: ${this.#brokerError}` };
    if (this.#state === 'crashed') return { ready: false, reason: `the Kafka consumer crashed: ${this.#lastCrash ?? 'unknown error'}` };
    if (this.#state !== 'joined') return { ready: false, reason: `the Kafka consumer is ${this.#state}` };
    if (this.#partitions.size === 0) return { ready: false, reason: `no partitions of ${this.#settings.inputTopic} are assigned to this host` };
    const idleFor = this.#scheduler.now() - this.#lastProgressAt;
    if (this.#lag > 0n && this.#unfinished > 0 && idleFor > this.#settings.stallTimeoutMs) {
      return { ready: false, reason: `no progress for ${idleFor} ms with a lag of ${this.#lag} (stall_timeout_ms ${this.#settings.stallTimeoutMs})` };
    }
    if (this.#lag > 0n && this.#unfinished === 0 && !this.#paused && this.#scheduler.now() - this.#lastAliveAt > this.#settings.stallTimeoutMs) {
      return { ready: false, reason: `the consumer has not fetched for ${this.#scheduler.now() - this.#lastAliveAt} ms with a lag of ${this.#lag}` };
    }
    return { ready: true };
  }

  async healthCheck(): Promise<EventBusHealth> {
    const readiness = this.readiness();
    const partitions = [...this.#partitions.values()]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => {
        const high = this.#highWatermarks.get(p.partition);
        const committed = p.committed;
        return {
          partition: p.partition,
          committed: committed === undefined ? null : committed.toString(),
          high_watermark: high === undefined ? null : high.toString(),
          lag: high === undefined || committed === undefined ? null : Number(high > committed ? high - committed : 0n),
          unfinished: p.unfinished,
        };
      });
    return {
      healthy: readiness.ready,
      kind: this.kind,
      ...(readiness.reason === undefined ? {} : { reason: readiness.reason }),
      delivery: this.#settings.delivery ?? 'at_least_once',
      state: this.#state,
      group: this.#settings.consumerGroup,
      member_id: this.#memberId ?? null,
      brokers: [...this.#client.brokers],
      input_topic: this.#settings.inputTopic,
      dead_letter_topic: this.#settings.deadLetterTopic,
      partitions,
      lag: Number(this.#lag),
      paused: this.#paused,
      unfinished: this.#unfinished,
      in_processing: this.#inProcessing,
      max_inflight_envelopes: this.#settings.maxInflightEnvelopes,
      pause_consumption_threshold: this.#settings.pauseConsumptionThreshold,
      delivered: this.#counts.delivered,
      finished: this.#counts.finished,
      dead_lettered: this.#counts.deadLettered,
      released: this.#counts.released,
      duplicates_skipped: this.#counts.duplicatesSkipped,
      commits: this.#counts.commits,
      rebalances: this.#counts.rebalances,
      pauses: this.#counts.pauses,
      last_progress_ms_ago: this.#scheduler.now() - this.#lastProgressAt,
    };
  }

  // ---------------------------------------------------------------- stopping

  /** Drain step one (the host's unsubscribe): stop fetching and delivering; records in processing may still settle. */
  async #stopIntake(): Promise<void> {
    if (this.#intakeStopped) return;
    this.#intakeStopped = true;
    this.#client.pause(this.#settings.inputTopic);
    this.#paused = true;
    // A batch handler holding for capacity lets go now, so kafkajs can stop.
    for (const wake of this.#capacityWaiters.splice(0)) wake();
    const queued = this.#ready.length + [...this.#lanes.values()].reduce((n, lane) => n + lane.filter((e) => !e.delivered).length, 0);
    this.#logger.info({ in_processing: this.#inProcessing, queued_released: queued }, 'kafka intake stopped for the drain; queued records are left for redelivery');
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  async #close(): Promise<void> {
    this.#intakeStopped = true;
    for (const wake of this.#capacityWaiters.splice(0)) wake();
    this.#commitTimer?.cancel();
    this.#probeTimer?.cancel();
    // The host frees its slots before outputs are acknowledged: let those land (bounded) so
    // their offsets are committed now rather than delivered again.
    if (this.#sendsInFlight > 0) await this.#waitAtMostDrainTimeout(this.#sendWaiters);
    await this.#committing;
    await this.#commit();
    // Delivered and never finished: not committed, so delivered again (here or elsewhere).
    const abandoned = this.#inProcessing;
    const committed = Object.fromEntries([...this.#partitions.values()].map((p) => [p.partition, p.committed === undefined ? null : p.committed.toString()]));
    try {
      await this.#client.stopConsumer();
    } catch (error) {
      this.#logger.warn({ err: this.#mapError(error, 'leave the group').toLogFields() }, 'kafka consumer did not leave the group cleanly; the broker expires it after session_timeout_ms');
    }
    await this.#client.disconnect().catch(() => undefined);
    this.#state = 'stopped';
    this.#logger.info(
      { finished: this.#counts.finished, dead_lettered: this.#counts.deadLettered, committed, abandoned, released_for_redelivery: this.#unfinished },
      abandoned > 0 ? 'kafka bus stopped; abandoned records were not committed and will be delivered again' : 'kafka bus stopped',
    );
  }

  /** Resolves when one of `waiters` is called, or after drain_timeout_ms, whichever comes first. */
  async #waitAtMostDrainTimeout(waiters: Array<() => void>): Promise<void> {
    let timer: TimerHandle | undefined;
    await Promise.race([
      new Promise<void>((resolve) => waiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = this.#scheduler.setTimeout(resolve, this.#settings.drainTimeoutMs);
      }),
    ]);
    timer?.cancel();
  }

  #mapError(error: unknown, action: string): OnexError {
    return mapKafkaError(error, { action, target: this.#client.brokers.join(',') });
  }
}
