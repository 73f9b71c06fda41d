/**
 * KafkaEventBus against a hand-driven FakeKafkaClient and a ManualScheduler (spec 4.5):
 * watermark commits, per-key lanes, durable settlement with dead letters, backpressure,
 * rebalances, readiness, drain and shutdown — observed only through the bus's public
 * surface and what it asks the Kafka client to do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  EventBusError,
  InfraConnectionError,
  InvalidOperationError,
  createErrorResponse,
  createRequestEnvelope,
  createSuccessResponse,
  serializeEnvelope,
  type OnexError,
} from '@onex/core';
import { InternalError } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { BusSubscription, InboundMessage, MessageSettlement } from '@onex/spi';
import { KafkaEventBus, type KafkaEventBusSettings } from '../../src/event-bus/kafka/kafka-event-bus.js';
import { mapKafkaError } from '../../src/event-bus/kafka/kafka-errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { Cleanup, isSettled } from '../runtime/fakes.js';
import { FakeKafkaClient, connectionError, type RecordInit } from './fake-kafka-client.js';
import { ManualScheduler, flush } from './manual-scheduler.js';

const INPUT = 'onex.test.orders.cmd.v1';
const OUTPUT = 'onex.test.orders.evt.v1';
const DLQ = 'onex.test.orders.error.v1';

const SETTINGS: KafkaEventBusSettings = {
  inputTopic: INPUT,
  deadLetterTopic: DLQ,
  outputKey: 'input',
  consumerGroup: 'orders-group',
  hostId: 'host-7',
  maxInflightEnvelopes: 10,
  pauseConsumptionThreshold: 8,
  commitIntervalMs: 100,
  stallTimeoutMs: 60_000,
  drainTimeoutMs: 5_000,
  probeIntervalMs: 1_000,
};

type LogLine = Record<string, unknown> & { level: string; msg: string };

interface Rig {
  readonly bus: KafkaEventBus;
  readonly client: FakeKafkaClient;
  readonly scheduler: ManualScheduler;
  readonly subscription: BusSubscription;
  /** Messages handed to the subscriber, in delivery order. */
  readonly received: InboundMessage[];
  readonly logs: LogLine[];
  /** `partition@offset` of every delivered message, in delivery order. */
  delivered(): string[];
  /** The delivered message at `partition@offset`. */
  message(offset: number, partition?: number): InboundMessage;
}

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A started bus on a fake client; joined with partition 0 unless `join` says otherwise. */
async function startBus(options: { settings?: Partial<KafkaEventBusSettings>; join?: readonly number[] | false; topics?: readonly string[] } = {}): Promise<Rig> {
  const scheduler = new ManualScheduler();
  const client = new FakeKafkaClient({ topics: options.topics ?? [INPUT, OUTPUT, DLQ] });
  const logs: LogLine[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const bus: KafkaEventBus = new KafkaEventBus({ client, scheduler, logger, settings: { ...SETTINGS, ...options.settings } });
  cleanup.add(() => bus.shutdown(), bus);
  const received: InboundMessage[] = [];
  const subscription = await bus.subscribe(INPUT, async (message) => {
    received.push(message);
  });
  await bus.startConsuming();
  if (options.join !== false) client.join(options.join ?? [0]);
  await flush();
  return {
    bus,
    client,
    scheduler,
    subscription,
    received,
    logs,
    delivered: () => received.map((m) => `${m.position?.partition}@${m.position?.offset}`),
    message: (offset, partition = 0) => {
      const found = received.find((m) => m.position?.partition === partition && m.position.offset === String(offset));
      if (!found) throw new Error(`${partition}@${offset} was not delivered (delivered: ${received.map((m) => `${m.position?.partition}@${m.position?.offset}`).join(' ')})`);
      return found;
    },
  };
}

const done: MessageSettlement = { kind: 'processed', outputs: [] };

/** Records with keys `k<offset>`: no two share a lane. */
function distinct(offsets: readonly number[], partition = 0): RecordInit[] {
  return offsets.map((offset) => ({ partition, offset, key: `k${offset}` }));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function envelopes() {
  const providers = deterministicProviders(7, '2026-01-15T09:30:00.000Z');
  const request = createRequestEnvelope({ operation: 'orders.create', payload: { sku: 'A-1' }, correlationId: '0000000c-0000-4000-8000-00000000000c' }, providers);
  return { providers, request };
}

describe('KafkaEventBus: commits', () => {
  it('commits the contiguous watermark: 0,2,3 finished commits 1; finishing 1 commits 4; never ahead', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0, 1, 2, 3]));
    await flush();
    expect(t.delivered()).toEqual(['0@0', '0@1', '0@2', '0@3']);

    await Promise.all([0, 2, 3].map((o) => t.message(o).settle(done)));
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
    // Further ticks with nothing new finished commit nothing (and never 4 while 1 is open).
    await t.scheduler.advance(1_000);
    expect(t.client.committedOffsets()).toEqual(['1']);

    await t.message(1).settle(done);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1', '4']);
    expect(t.client.commits.flat().every((c) => c.topic === INPUT && c.partition === 0)).toBe(true);
  });

  it('walks the watermark over offset gaps (compaction, transaction markers) using the offsets actually delivered', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0, 5, 9]));
    await flush();
    await t.message(5).settle(done);
    await t.scheduler.advance(100);
    expect(t.client.commits).toEqual([]);
    await Promise.all([t.message(0).settle(done), t.message(9).settle(done)]);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['10']);
  });

  it('a failed commit is not fatal: the same watermark goes out on a later tick', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0, 1]));
    await flush();
    await Promise.all([t.message(0).settle(done), t.message(1).settle(done)]);
    t.client.commitErrors.push(connectionError());
    await t.scheduler.advance(100);
    expect(t.client.commits).toEqual([]);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['2']);
    expect(t.logs.some((l) => l.level === 'warn' && l.msg.includes('commit failed'))).toBe(true);
  });
});

describe('KafkaEventBus: per-key lanes', () => {
  it('delivers a key one record at a time in offset order, different keys concurrently, and keyless records each on their own', async () => {
    const t = await startBus();
    t.client.deliver([
      { offset: 0, key: 'A' },
      { offset: 1, key: 'A' },
      { offset: 2, key: 'B' },
      { offset: 3, key: null },
      { offset: 4, key: null },
      // No key but a correlation_id header: that is the lane.
      { offset: 5, key: null, headers: { correlation_id: 'C' } },
      { offset: 6, key: null, headers: { correlation_id: 'C' } },
      { offset: 7, key: 'A' },
    ]);
    await flush();
    // One of each lane is in processing at once; 1 and 7 wait behind 0 (key A), 6 behind 5 (C).
    expect(t.delivered()).toEqual(['0@0', '0@2', '0@3', '0@4', '0@5']);

    await t.message(0).settle(done);
    await flush();
    expect(t.delivered().slice(5)).toEqual(['0@1']);
    await t.message(5).settle(done);
    await flush();
    expect(t.delivered().slice(6)).toEqual(['0@6']);
    await t.message(1).settle(done);
    await flush();
    expect(t.delivered().slice(7)).toEqual(['0@7']);

    const keyA = t.received.filter((m) => m.key === 'A').map((m) => m.position?.offset);
    expect(keyA).toEqual(['0', '1', '7']);
  });

  it('hands the subscriber the record as it was on the wire (topic, key, headers, bytes, position)', async () => {
    const t = await startBus();
    t.client.deliver([{ offset: 3, key: 'order-9', value: '{"x":1}', headers: { correlation_id: 'order-9', source: 'erp' } }]);
    await flush();
    const m = t.message(3);
    expect(m).toMatchObject({ topic: INPUT, key: 'order-9', headers: { correlation_id: 'order-9', source: 'erp' }, position: { partition: 0, offset: '3' } });
    expect(new TextDecoder().decode(m.value as Uint8Array)).toBe('{"x":1}');
  });
});

describe('KafkaEventBus: settlement', () => {
  it('processed: sends each output keyed by the input key with correlation_id, envelope_id and content-type headers', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    t.client.deliver([{ offset: 0, key: 'customer-42', value: serializeEnvelope(request) }]);
    await flush();
    const response = createSuccessResponse(request, { accepted: true }, providers);
    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: response }] });

    expect(t.client.sends).toEqual([
      [
        {
          topic: OUTPUT,
          key: new TextEncoder().encode('customer-42'),
          value: serializeEnvelope(response),
          headers: { correlation_id: request.correlationId, envelope_id: response.envelopeId, 'content-type': 'application/json' },
        },
      ],
    ]);
    const wire = JSON.parse(t.client.sentTo(OUTPUT)[0]?.value ?? '{}') as Record<string, unknown>;
    expect(wire).toMatchObject({ correlation_id: request.correlationId, causation_id: request.envelopeId, is_response: true, success: true });
  });

  it('dead_letter: sends the error envelope and a dead-letter record with the original record, the reason, the host and the time', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    const raw = '{"operation": "orders.create", ';
    t.client.deliver([{ offset: 0, key: 'poison-key', value: raw, headers: { source: 'legacy-erp' } }]);
    await flush();
    const errorEnvelope = createErrorResponse(request, new InvalidOperationError('refused', { hint: 'fix it' }), providers);
    await t.scheduler.advance(1_234);
    await t.message(0).settle({
      kind: 'dead_letter',
      outputs: [{ topic: OUTPUT, envelope: errorEnvelope }],
      reason: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'Unexpected end of JSON input', attempts: 1 },
    });

    // The answer and the dead-letter record go out in one send: both are durable, or neither counts.
    expect(t.client.sends).toHaveLength(1);
    expect(t.client.sentTo(OUTPUT).map((r) => r.value)).toEqual([serializeEnvelope(errorEnvelope)]);
    const [dead] = t.client.sentTo(DLQ);
    expect(dead).toMatchObject({
      topic: DLQ,
      key: 'poison-key',
      headers: { source: 'legacy-erp', 'content-type': 'application/json', 'onex-dead-letter-code': 'ENVELOPE_VALIDATION_ERROR' },
    });
    expect(JSON.parse(dead?.value ?? '{}')).toEqual({
      original_topic: INPUT,
      partition: 0,
      offset: '0',
      key: 'poison-key',
      headers: { source: 'legacy-erp' },
      raw_value: raw,
      raw_value_encoding: 'utf8',
      error: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'Unexpected end of JSON input' },
      attempts: 1,
      host_id: 'host-7',
      dead_lettered_at: new Date(t.scheduler.now()).toISOString(),
    });
    expect((await t.bus.healthCheck()).dead_lettered).toBe(1);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
  });

  it('dead_letter: bytes that are not valid UTF-8 are kept as base64', async () => {
    const t = await startBus();
    t.client.deliver([{ offset: 0, key: 'bin', value: new Uint8Array([0xff, 0xfe, 0x7b, 0x00]) }]);
    await flush();
    await t.message(0).settle({ kind: 'dead_letter', outputs: [], reason: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'not UTF-8', attempts: 1 } });
    const body = JSON.parse(t.client.sentTo(DLQ)[0]?.value ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ raw_value: '//57AA==', raw_value_encoding: 'base64', key: 'bin' });
  });

  it('commits an offset only after its outputs were acknowledged', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    t.client.deliver(distinct([0]));
    await flush();
    t.client.holdSends();
    const settling = t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, {}, providers) }] });
    await t.scheduler.advance(500);
    expect(await isSettled(settling)).toBe(false);
    expect(t.client.commits).toEqual([]);

    t.client.releaseSends();
    await settling;
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
  });

  it('retries a send the broker did not acknowledge after a pause, and commits nothing meanwhile', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    t.client.deliver(distinct([0]));
    await flush();
    t.client.sendErrors.push(connectionError(), connectionError());
    const settling = t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, {}, providers) }] });
    await flush();
    expect(t.client.sendAttempts).toBe(1);
    expect(await isSettled(settling)).toBe(false);

    // Retries are spaced by the scheduler, not fired back to back.
    await t.scheduler.advance(100);
    expect(t.client.commits).toEqual([]);
    expect(t.client.sendAttempts).toBe(1);

    await t.scheduler.advance(5_000);
    await settling;
    expect(t.client.sendAttempts).toBe(3);
    expect(t.client.sentTo(OUTPUT)).toHaveLength(1);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
    expect(t.logs.filter((l) => l.level === 'warn' && l.msg.includes('retrying'))).toHaveLength(2);
  });

  it('rejects a second settle of the same message and sends nothing more', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0]));
    await flush();
    await t.message(0).settle(done);
    const again = t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: envelopes().request }] });
    await expect(again).rejects.toBeInstanceOf(InternalError);
    await expect(again).rejects.toMatchObject({ code: 'INTERNAL_ERROR', message: expect.stringContaining('settled twice') });
    expect(t.client.sentTo(OUTPUT)).toHaveLength(0);
  });

  // Regression: a second settle() while the first one's outputs were still in flight used
  // to pass the check, send the outputs twice and hand the key's next record out twice.
  it('rejects a second settle issued while the first one is still being made durable', async () => {
    const t = await startBus();
    t.client.deliver([
      { offset: 0, key: 'A' },
      { offset: 1, key: 'A' },
    ]);
    await flush();
    t.client.holdSends();
    const first = t.message(0).settle(done);
    const second = t.message(0).settle(done);
    second.catch(() => undefined);
    t.client.releaseSends();
    await first;
    await expect(second).rejects.toBeInstanceOf(InternalError);
    await flush();
    expect(t.client.sendAttempts).toBe(1);
    expect(t.delivered()).toEqual(['0@0', '0@1']);
    expect((await t.bus.healthCheck()).in_processing).toBe(1);
  });
});

describe('KafkaEventBus: output key', () => {
  const text = (key: string | Uint8Array | null | undefined): string | null | undefined => (key instanceof Uint8Array ? new TextDecoder().decode(key) : key);

  /** Answers three records (two of key customer-42, one of customer-7; the last one fails), each with its own correlation id. */
  async function answerThree(settings: Partial<KafkaEventBusSettings>) {
    const t = await startBus({ settings });
    const providers = deterministicProviders(11, '2026-01-15T09:30:00.000Z');
    const request = (n: number) => createRequestEnvelope({ operation: 'orders.create', payload: { n }, correlationId: `0000000${n}-0000-4000-8000-00000000000a` }, providers);
    const requests = [request(0), request(1), request(2)] as const;
    t.client.deliver(['customer-42', 'customer-42', 'customer-7'].map((key, offset) => ({ offset, key, value: serializeEnvelope(requests[offset as 0 | 1 | 2]) })));
    await flush();
    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(requests[0], { n: 0 }, providers) }] });
    await t.message(1).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(requests[1], { n: 1 }, providers) }] });
    await t.message(2).settle({
      kind: 'dead_letter',
      outputs: [{ topic: OUTPUT, envelope: createErrorResponse(requests[2], new InvalidOperationError('refused', { hint: 'fix it' }), providers) }],
      reason: { code: 'INVALID_OPERATION', message: 'refused', attempts: 1 },
    });
    return { t, correlationIds: requests.map((r) => r.correlationId) };
  }

  it('input: every answer, the error answer too, carries the key of the record it answers; the dead letter keeps its own', async () => {
    const { t } = await answerThree({ outputKey: 'input' });
    expect(t.client.sentTo(OUTPUT).map((r) => text(r.key))).toEqual(['customer-42', 'customer-42', 'customer-7']);
    expect(t.client.sentTo(DLQ).map((r) => r.key)).toEqual(['customer-7']);
  });

  it('correlation_id: every answer is keyed by its correlation id; the dead letter still keeps the original key', async () => {
    const { t, correlationIds } = await answerThree({ outputKey: 'correlation_id' });
    expect(t.client.sentTo(OUTPUT).map((r) => r.key)).toEqual(correlationIds);
    expect(t.client.sentTo(DLQ).map((r) => r.key)).toEqual(['customer-7']);
  });

  it('input: the exact key bytes go out, even when they are not UTF-8', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    const binary = Uint8Array.from([0xff, 0x00, 0xc3, 0x28]);
    t.client.deliver([{ offset: 0, key: binary, value: serializeEnvelope(request) }]);
    await flush();
    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, {}, providers) }] });
    expect(t.client.sentTo(OUTPUT)[0]?.key).toEqual(binary);
  });

  it('input: a record without a key (null or empty) is answered keyed by its correlation id, as is an envelope published on its own', async () => {
    const t = await startBus();
    const { providers, request } = envelopes();
    t.client.deliver([
      { offset: 0, key: null, value: serializeEnvelope(request) },
      { offset: 1, key: '', value: serializeEnvelope(request) },
    ]);
    await flush();
    const response = createSuccessResponse(request, {}, providers);
    await Promise.all([0, 1].map((o) => t.message(o).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: response }] })));
    await t.bus.publishEnvelope(response, OUTPUT);
    expect(t.client.sentTo(OUTPUT).map((r) => r.key)).toEqual([request.correlationId, request.correlationId, request.correlationId]);
  });

  it('input, exactly_once: the transaction carries the answers under their input keys', async () => {
    const t = await startBus({ settings: { delivery: 'exactly_once' } });
    const { providers, request } = envelopes();
    t.client.deliver([{ offset: 0, key: 'customer-42', value: serializeEnvelope(request) }]);
    await flush();
    const settled = t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, {}, providers) }] });
    await t.scheduler.advance(100);
    await settled;
    expect(t.client.transactions.flatMap((tx) => tx.records).map((r) => text(r.key))).toEqual(['customer-42']);
  });
});

describe('KafkaEventBus: backpressure', () => {
  it('holds the batch at the pause threshold (8 unfinished) and takes the rest once half of it (4) is left', async () => {
    const t = await startBus();
    const batch = t.client.deliver(distinct(range(0, 10)));
    await flush();
    // Eight taken; the batch (and with it kafkajs's fetch loop) waits: nothing is dropped or fetched again.
    expect(batch.resolved).toEqual(range(0, 8).map(String));
    expect(await t.bus.healthCheck()).toMatchObject({ unfinished: 8, paused: true });
    expect(await isSettled(batch.outcome)).toBe(false);

    for (const o of [0, 1, 2]) await t.message(o).settle(done);
    await flush();
    expect(batch.resolved).toHaveLength(8);
    await t.message(3).settle(done);
    await flush();
    expect(batch.resolved).toEqual(range(0, 10).map(String));
    expect((await batch.outcome).status).toBe('returned');
    expect((await t.bus.healthCheck()).paused).toBe(false);
    // Backpressure never touches kafkajs's pause (that would drop the rest of the batch).
    expect(t.client.flowLog).toEqual([]);
  });

  it('never holds more than the threshold: a batch of 20 is taken as capacity frees, each record once', async () => {
    const t = await startBus();
    const batch = t.client.deliver(distinct(range(0, 20)));
    await flush();
    let maxUnfinished = 0;
    for (let o = 0; o < 20; o += 1) {
      maxUnfinished = Math.max(maxUnfinished, Number((await t.bus.healthCheck()).unfinished));
      await t.message(o).settle(done);
      await flush();
    }
    expect(maxUnfinished).toBeLessThanOrEqual(8);
    expect((await batch.outcome).status).toBe('returned');
    expect(t.delivered()).toEqual(range(0, 20).map((o) => `0@${o}`));
  });
});

describe('KafkaEventBus: rebalances', () => {
  it('after a join with a smaller assignment: queued records of the revoked partition are not delivered; in-flight ones settle without a commit', async () => {
    const t = await startBus({ join: [0, 1] });
    const { providers, request } = envelopes();
    t.client.deliver(
      [
        { offset: 0, key: 'K' },
        { offset: 1, key: 'K' },
      ],
      { partition: 1 },
    );
    t.client.deliver([{ offset: 0, key: 'J' }], { partition: 0 });
    await flush();
    expect(t.delivered()).toEqual(['1@0', '0@0']);

    t.client.rebalancing();
    t.client.join([0]);
    await flush();

    const answer = createSuccessResponse(request, { late: true }, providers);
    await t.message(0, 1).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: answer }] });
    await t.message(0, 0).settle(done);
    await t.scheduler.advance(1_000);

    // The in-flight record's answer still goes out…
    expect(t.client.sentTo(OUTPUT).map((r) => r.value)).toEqual([serializeEnvelope(answer)]);
    // …its successor on the same key is left to the partition's new owner…
    expect(t.delivered()).toEqual(['1@0', '0@0']);
    // …and only the partition still owned is committed.
    expect(t.client.committedOffsets(1)).toEqual([]);
    expect(t.client.committedOffsets(0)).toEqual(['1']);
    const health = await t.bus.healthCheck();
    expect(health).toMatchObject({ released: 1, unfinished: 0, in_processing: 0, rebalances: 1, state: 'joined' });
    expect((health.partitions as { partition: number }[]).map((p) => p.partition)).toEqual([0]);
  });

  it('skips a refetch of offsets already in hand after a rejoin that kept the partition, and counts them', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0, 1]));
    await flush();
    await t.message(1).settle(done);

    t.client.rebalancing();
    t.client.join([0]);
    // Nothing was committed, so kafkajs fetches from offset 0 again.
    const refetch = t.client.deliver(distinct([0, 1, 2]));
    await flush();
    expect(refetch.resolved).toEqual(['0', '1', '2']);
    expect(t.delivered()).toEqual(['0@0', '0@1', '0@2']);
    expect((await t.bus.healthCheck()).duplicates_skipped).toBe(2);

    await Promise.all([t.message(0).settle(done), t.message(2).settle(done)]);
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['3']);
  });

  it('on a rebalance error from the heartbeat: delivers nothing new, waits for records in processing, commits, then rethrows', async () => {
    // Commit ticks far apart, so any commit seen here is the one made before letting go.
    const t = await startBus({ settings: { commitIntervalMs: 600_000 } });
    const batch = t.client.deliver(
      [
        { offset: 0, key: 'A' },
        { offset: 1, key: 'A' },
        { offset: 2, key: 'B' },
      ],
      { holdHeartbeat: true },
    );
    await flush();
    expect(t.delivered()).toEqual(['0@0', '0@2']);
    await t.message(2).settle(done);

    batch.rebalance();
    await flush();
    expect(await isSettled(batch.outcome)).toBe(false);
    expect(t.client.commits).toEqual([]);

    await t.message(0).settle(done);
    const outcome = await batch.outcome;
    expect(outcome).toMatchObject({ status: 'threw', error: { type: 'REBALANCE_IN_PROGRESS' } });
    // 1 became ready when 0 finished, but was held back; 2 is done but 1 is not, so 1 is the watermark.
    expect(t.delivered()).toEqual(['0@0', '0@2']);
    expect(t.client.committedOffsets()).toEqual(['1']);

    // The group settles with partition 0 kept: the record in hand is delivered after all.
    t.client.join([0]);
    await flush();
    expect(t.delivered()).toEqual(['0@0', '0@2', '0@1']);
  });

  it('waits for records in processing no longer than drainTimeoutMs before committing and rethrowing', async () => {
    const t = await startBus({ settings: { commitIntervalMs: 600_000, drainTimeoutMs: 5_000 } });
    const batch = t.client.deliver(distinct([0, 1]), { holdHeartbeat: true });
    await flush();
    await t.message(0).settle(done);
    batch.rebalance();

    await t.scheduler.advance(4_999);
    expect(await isSettled(batch.outcome)).toBe(false);
    await t.scheduler.advance(1);
    expect(await batch.outcome).toMatchObject({ status: 'threw', error: { type: 'REBALANCE_IN_PROGRESS' } });
    // 0 finished, 1 was still being processed: only 0 is committed.
    expect(t.client.committedOffsets()).toEqual(['1']);
  });
  // Regression: a revocation that released the queued records which had paused the topic
  // left it paused for good when nothing was in processing (no settle came to resume it).
  it('resumes fetching when a revocation releases the queued records that had paused it', async () => {
    const t = await startBus({ join: [0, 1], settings: { commitIntervalMs: 600_000 } });
    // Nine records of one key on partition 1: one in processing, seven queued, so the batch holds.
    const batch = t.client.deliver(
      range(0, 9).map((offset) => ({ offset, key: 'K' })),
      { partition: 1, holdHeartbeat: true },
    );
    await flush();
    expect((await t.bus.healthCheck()).paused).toBe(true);
    // While it holds, the batch heartbeats; this heartbeat reports a rebalance.
    await t.scheduler.advance(1_000);
    batch.rebalance();
    await t.message(0, 1).settle(done);
    expect((await batch.outcome).status).toBe('threw');

    // Partition 1 goes elsewhere: nothing is left in hand here, so partition 0 must be fetched again.
    t.client.rebalancing();
    t.client.join([0]);
    await flush();
    expect(await t.bus.healthCheck()).toMatchObject({ unfinished: 0, in_processing: 0, released: 7, paused: false });
  });
});

describe('KafkaEventBus: readiness', () => {
  it('is not ready before the join nor with no partitions; ready once partitions are assigned', async () => {
    const t = await startBus({ join: false });
    expect(t.bus.readiness()).toEqual({ ready: false, reason: 'the Kafka consumer is joining' });
    t.client.join([], 'member-1', [{ topic: 'some.other.topic', partition: 0 }]);
    expect(t.bus.readiness()).toMatchObject({ ready: false, reason: expect.stringContaining(`no partitions of ${INPUT}`) });
    t.client.join([0, 1]);
    expect(t.bus.readiness()).toEqual({ ready: true });
  });

  it('is not ready before startConsuming', async () => {
    const bus = new KafkaEventBus({ client: new FakeKafkaClient(), scheduler: new ManualScheduler(), settings: SETTINGS });
    expect(bus.readiness().ready).toBe(false);
  });

  it('reports an unreachable broker after a failed probe, and recovers on the next good one', async () => {
    const t = await startBus();
    expect(t.bus.readiness()).toEqual({ ready: true });
    t.client.probeError = connectionError();
    await t.scheduler.advance(1_000);
    const readiness = t.bus.readiness();
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toContain('Kafka broker unreachable');
    expect(readiness.reason).toContain('broker-a.test:9092,broker-b.test:9092');
    expect(readiness.reason).toContain('ECONNREFUSED');

    t.client.probeError = undefined;
    await t.scheduler.advance(1_000);
    expect(t.bus.readiness()).toEqual({ ready: true });
  });

  it('is not ready after the consumer crashed, until it joins again', async () => {
    const t = await startBus();
    t.client.crash(connectionError('Connection error: read ECONNRESET'));
    expect(t.bus.readiness()).toMatchObject({ ready: false, reason: expect.stringMatching(/crashed.*ECONNRESET/) });
    expect((await t.bus.healthCheck()).state).toBe('crashed');
    t.client.join([0]);
    expect(t.bus.readiness()).toEqual({ ready: true });
  });

  it('is not ready when there is lag and no record finished for stallTimeoutMs; ready again on progress', async () => {
    const t = await startBus();
    t.client.highWatermarkMap.set(0, 5n);
    t.client.deliver(distinct([0, 1, 2]));
    await flush();
    await t.message(0).settle(done);
    await t.scheduler.advance(1_000);
    expect(t.bus.readiness()).toEqual({ ready: true });

    await t.scheduler.advance(60_000);
    expect(t.bus.readiness()).toMatchObject({ ready: false, reason: expect.stringContaining('no progress') });

    await t.message(1).settle(done);
    expect(t.bus.readiness()).toEqual({ ready: true });
  });

  // Regression: with nothing finished yet on a partition the lag read as 0, so a host whose
  // first records hung was reported ready forever.
  it('is not ready when the first records taken in never finish for stallTimeoutMs', async () => {
    const t = await startBus();
    t.client.highWatermarkMap.set(0, 2n);
    t.client.deliver(distinct([0, 1]));
    await flush();
    await t.scheduler.advance(61_000);
    expect(t.bus.readiness()).toMatchObject({ ready: false, reason: expect.stringContaining('no progress') });
  });
});

describe('KafkaEventBus: drain and shutdown', () => {
  it('unsubscribe pauses fetching and stops deliveries; records in processing still settle and commit', async () => {
    const t = await startBus();
    t.client.deliver([
      { offset: 0, key: 'A' },
      { offset: 1, key: 'A' },
      { offset: 2, key: 'B' },
    ]);
    await flush();
    await t.subscription.unsubscribe();
    await t.subscription.unsubscribe();
    expect(t.client.flowLog).toEqual([`pause:${INPUT}`]);

    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: envelopes().request }] });
    expect(t.client.sentTo(OUTPUT)).toHaveLength(1);
    await flush();
    // 1 waited behind 0 on key A: it stays undelivered, for redelivery after the restart.
    expect(t.delivered()).toEqual(['0@0', '0@2']);
    const late = t.client.deliver(distinct([3]));
    await flush();
    expect(late.resolved).toEqual([]);
    expect(t.delivered()).toEqual(['0@0', '0@2']);

    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
    expect(t.client.flowLog).toEqual([`pause:${INPUT}`]);
  });

  it('shutdown commits finished work, then leaves the group and disconnects, and logs what it abandoned', async () => {
    const t = await startBus({ settings: { commitIntervalMs: 600_000 } });
    t.client.deliver(distinct([0, 1, 2]));
    await flush();
    await Promise.all([t.message(0).settle(done), t.message(2).settle(done)]);

    await Promise.all([t.bus.shutdown(), t.bus.shutdown()]);
    expect(t.client.callLog).toEqual(['commit:0=1', 'stopConsumer', 'disconnect']);
    expect(t.bus.readiness()).toMatchObject({ ready: false, reason: expect.stringContaining('stopping') });
    const stopped = t.logs.find((l) => l.msg.startsWith('kafka bus stopped'));
    expect(stopped).toMatchObject({ abandoned: 1, finished: 2, committed: { 0: '1' } });
    expect(stopped?.msg).toContain('abandoned records were not committed');

    // The abandoned record's outputs cannot be made durable any more: settle rejects, nothing is committed.
    t.client.sendErrors.push(connectionError());
    await expect(t.message(1).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: envelopes().request }] })).rejects.toBeInstanceOf(InfraConnectionError);
    await t.scheduler.advance(10_000);
    expect(t.client.callLog).toEqual(['commit:0=1', 'stopConsumer', 'disconnect']);
    expect(t.scheduler.pending).toBe(0);
  });
});

describe('KafkaEventBus: subscribing and starting', () => {
  it('refuses to subscribe to a topic other than its input topic, with a hint', async () => {
    const bus = new KafkaEventBus({ client: new FakeKafkaClient(), scheduler: new ManualScheduler(), settings: SETTINGS });
    const attempt = bus.subscribe(OUTPUT, async () => undefined);
    await expect(attempt).rejects.toBeInstanceOf(EventBusError);
    const error = (await attempt.catch((e: unknown) => e)) as EventBusError;
    expect(error.message).toContain(OUTPUT);
    expect(error.message).toContain(INPUT);
    expect(error.hint).toMatch(/consumer of your own/);
  });

  it('fails to start with a typed error naming a missing topic, and never joins', async () => {
    const client = new FakeKafkaClient({ topics: [INPUT] });
    const bus = new KafkaEventBus({ client, scheduler: new ManualScheduler(), settings: SETTINGS });
    await bus.subscribe(INPUT, async () => undefined);
    const error = (await bus.startConsuming().catch((e: unknown) => e)) as OnexError;
    expect(error).toBeInstanceOf(EventBusError);
    expect(error.message).toContain(DLQ);
    expect(error.message).not.toContain(`${INPUT},`);
    expect(error.hint).toMatch(/kafka-topics/);
    expect(client.events).toBeUndefined();
    expect(bus.readiness().ready).toBe(false);
  });
});

describe('mapKafkaError', () => {
  const where = { action: 'publish outputs', target: 'kafka-1.internal:9093,kafka-2.internal:9093' };

  it.each(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError'])(
    '%s is a retryable connection error naming kafka and the brokers',
    (name) => {
      const error = mapKafkaError(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name, retriable: true }), where);
      expect(error).toBeInstanceOf(InfraConnectionError);
      expect(error).toMatchObject({ code: 'INFRA_CONNECTION_ERROR', retryable: true, details: { transport_type: 'kafka', target: where.target } });
      expect(error.message).toContain('publish outputs');
    },
  );

  it('looks through kafkajs retry wrappers to the connection error inside', () => {
    const inner = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError', retriable: true });
    const outer = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: inner });
    expect(mapKafkaError(outer, where)).toMatchObject({ code: 'INFRA_CONNECTION_ERROR', retryable: true });
  });

  it('a request timeout is INFRA_TIMEOUT', () => {
    const error = mapKafkaError(Object.assign(new Error('Request Produce(key: 0, version: 7) timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true }), where);
    expect(error).toMatchObject({ code: 'INFRA_TIMEOUT', retryable: true, details: { transport_type: 'kafka', target: where.target } });
  });

  it.each(['SASL_AUTHENTICATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED'])('%s is INFRA_AUTHENTICATION_ERROR, not retryable', (type) => {
    const error = mapKafkaError(Object.assign(new Error('Not authorized'), { name: 'KafkaJSProtocolError', type, retriable: false }), where);
    expect(error).toMatchObject({ code: 'INFRA_AUTHENTICATION_ERROR', retryable: false, details: { transport_type: 'kafka', target: where.target, kafka_error_type: type } });
  });

  it('another retriable broker error is INFRA_UNAVAILABLE', () => {
    const error = mapKafkaError(Object.assign(new Error('There is no leader for this topic-partition'), { name: 'KafkaJSProtocolError', type: 'LEADER_NOT_AVAILABLE', retriable: true }), where);
    expect(error).toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true, details: { transport_type: 'kafka', target: where.target } });
  });

  it('a non-retriable broker error is a typed bus error that is not retried', () => {
    const error = mapKafkaError(Object.assign(new Error('Message was too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false }), where);
    expect(error).toBeInstanceOf(EventBusError);
    expect(error.retryable).toBe(false);
  });

  it('keeps the target as given and no password in the message, even when the driver put one in its text', () => {
    const error = mapKafkaError(
      Object.assign(new Error('SASL PLAIN authentication failed for sasl://orders:hunter2-secret@kafka-1.internal:9093 (password=hunter2-secret)'), {
        name: 'KafkaJSSASLAuthenticationError',
        type: 'SASL_AUTHENTICATION_FAILED',
      }),
      where,
    );
    expect(error.details.target).toBe(where.target);
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.toEnvelopeError())).not.toContain('hunter2');
    expect(JSON.stringify(error.toLogFields())).not.toContain('hunter2');
  });

  it('passes typed errors through and wraps non-objects', () => {
    const typed = new InfraConnectionError('already typed', { transportType: 'kafka' });
    expect(mapKafkaError(typed, where)).toBe(typed);
    expect(mapKafkaError('boom', where)).toBeInstanceOf(EventBusError);
  });
});

describe('KafkaEventBus: exactly-once', () => {
  const eos = { delivery: 'exactly_once' } as const;

  it('writes settled outputs and the watermark in one transaction per partition and tick; nothing is sent or committed outside it', async () => {
    const t = await startBus({ settings: eos });
    const { providers, request } = envelopes();
    t.client.deliver(distinct([0, 1, 2]));
    await flush();
    const response = createSuccessResponse(request, { ok: true }, providers);
    const settled = [0, 1].map((o) => t.message(o).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: response }] }));
    await flush();
    expect(await isSettled(settled[0] as Promise<void>)).toBe(false);
    await t.scheduler.advance(100);
    await Promise.all(settled);
    expect(t.client.transactions).toEqual([{ partition: 0, records: [expect.objectContaining({ topic: OUTPUT }), expect.objectContaining({ topic: OUTPUT })], offsets: [{ topic: INPUT, partition: 0, offset: '2' }] }]);
    expect(t.client.sends).toEqual([]);
    expect(t.client.commits).toEqual([]);
    // The key's next record was not held back by the transaction.
    expect((await t.bus.healthCheck()).delivery).toBe('exactly_once');
  });

  it('retries an aborted transaction with the same records plus what settled meanwhile', async () => {
    const t = await startBus({ settings: eos });
    t.client.deliver(distinct([0, 1]));
    await flush();
    const first = t.message(0).settle(done);
    t.client.transactionErrors.push(connectionError());
    await t.scheduler.advance(100);
    expect(await isSettled(first)).toBe(false);
    const second = t.message(1).settle({ kind: 'dead_letter', outputs: [], reason: { code: 'INVALID_OPERATION', message: 'no', attempts: 1 } });
    await t.scheduler.advance(100);
    await Promise.all([first, second]);
    expect(t.client.transactions).toHaveLength(1);
    expect(t.client.transactions[0]?.offsets).toEqual([{ topic: INPUT, partition: 0, offset: '2' }]);
    expect(t.client.transactions[0]?.records.map((r) => r.topic)).toEqual([DLQ]);
  });

  it('rejects the pending settlements of a revoked partition and releases its transactional producer', async () => {
    const t = await startBus({ settings: eos, join: [0, 1] });
    t.client.deliver(distinct([0], 1));
    await flush();
    const outcome = t.message(0, 1).settle(done).then(
      () => 'committed',
      (error: unknown) => error,
    );
    t.client.join([0]);
    await flush();
    expect(await outcome).toBeInstanceOf(EventBusError);
    expect(t.client.releasedPartitions).toEqual([1]);
    await t.scheduler.advance(100);
    expect(t.client.transactions).toEqual([]);
  });
});

describe('KafkaEventBus: the group offsets it inherits', () => {
  it('shows the committed offset and lag of a partition this host has not committed yet', async () => {
    const scheduler = new ManualScheduler();
    const client = new FakeKafkaClient({ topics: [INPUT, OUTPUT, DLQ] });
    client.groupOffsetMap.set(0, 3n);
    client.highWatermarkMap.set(0, 5n);
    const bus = new KafkaEventBus({ client, scheduler, settings: SETTINGS });
    cleanup.add(() => bus.shutdown(), bus);
    await bus.subscribe(INPUT, async () => undefined);
    await bus.startConsuming();
    client.join([0]);
    await flush();
    await scheduler.advance(1_000);
    const health = await bus.healthCheck();
    expect(health.partitions).toEqual([{ partition: 0, committed: '3', high_watermark: '5', lag: 2, unfinished: 0 }]);
    expect(health.lag).toBe(2);
  });
});

describe('KafkaEventBus: produce requests', () => {
  it('coalesces what settles during a send into the next request, but never past ~512 KiB (a broker refuses bigger batches for good)', async () => {
    const t = await startBus({ settings: { maxInflightEnvelopes: 60, pauseConsumptionThreshold: 50 } });
    const { providers, request } = envelopes();
    const big = createSuccessResponse(request, { blob: 'x'.repeat(30_000) }, providers);
    t.client.deliver(distinct(range(0, 31)));
    await flush();
    t.client.holdSends();
    const first = t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: big }] });
    await flush();
    const rest = range(1, 31).map((o) => t.message(o).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: big }] }));
    await flush();
    t.client.releaseSends();
    await Promise.all([first, ...rest]);
    const sizes = t.client.sends.map((batch) => batch.reduce((n, r) => n + Buffer.byteLength(r.value), 0));
    expect(t.client.sends.map((b) => b.length)).toEqual([1, 17, 13]);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(512 * 1024);
  });
});

describe('KafkaEventBus: outputs the broker refuses for good', () => {
  it('dead-letters the input instead, so the partition moves on', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0]));
    await flush();
    t.client.sendErrors.push(Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false }));
    const { providers, request } = envelopes();
    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, { huge: true }, providers) }] });
    const [dead] = t.client.sentTo(DLQ);
    expect(JSON.parse(dead?.value ?? '{}')).toMatchObject({ offset: '0', error: { code: 'EVENT_BUS_ERROR', message: expect.stringContaining('refused by the broker') } });
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
  });

  it('dead-letters a record larger than the dead-letter topic takes in its truncated form, linked to its answer, and commits past it', async () => {
    const t = await startBus();
    const raw = `{"operation": "orders.create", "payload": "${'x'.repeat(2 * 1024 * 1024)}`;
    t.client.deliver([{ offset: 0, key: 'poison-key', value: raw, headers: { source: 'legacy-erp' } }]);
    await flush();
    const { providers, request } = envelopes();
    const errorEnvelope = createErrorResponse(request, new InvalidOperationError('refused', { hint: 'fix it' }), providers);
    await t.message(0).settle({
      kind: 'dead_letter',
      outputs: [{ topic: OUTPUT, envelope: errorEnvelope }],
      reason: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'Unexpected end of JSON input', attempts: 1, correlationId: request.correlationId },
    });
    const [dead] = t.client.sentTo(DLQ);
    // Well under a default topic's max.message.bytes (1 MiB).
    expect(Buffer.byteLength(dead?.value ?? '')).toBeLessThan(256 * 1024);
    expect(JSON.parse(dead?.value ?? '{}')).toMatchObject({
      offset: '0',
      correlation_id: request.correlationId,
      key: 'poison-key',
      headers: { source: 'legacy-erp' },
      truncated: true,
      raw_size: Buffer.byteLength(raw),
      raw_value: raw.slice(0, 16 * 1024),
    });
    await t.scheduler.advance(100);
    expect(t.client.committedOffsets()).toEqual(['1']);
  });

  it('links the fallback dead letter to the refused answer by its correlation id', async () => {
    const t = await startBus();
    t.client.deliver(distinct([0]));
    await flush();
    t.client.sendErrors.push(Object.assign(new Error('Message was too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false }));
    const { providers, request } = envelopes();
    await t.message(0).settle({ kind: 'processed', outputs: [{ topic: OUTPUT, envelope: createSuccessResponse(request, { huge: true }, providers) }] });
    const [dead] = t.client.sentTo(DLQ);
    expect(JSON.parse(dead?.value ?? '{}')).toMatchObject({ offset: '0', correlation_id: request.correlationId });
  });
});
