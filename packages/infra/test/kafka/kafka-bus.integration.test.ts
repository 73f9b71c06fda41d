/**
 * The Kafka event bus on a real broker (tooling/services/kafka.sh), driven through a
 * RuntimeHostProcess built from a contract. Producers and readers are plain kafkajs
 * clients, acting as systems nobody wrote for this project.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraConnectionError, InvalidOperationError, parseRuntimeHostContract, type OnexEnvelope } from '@onex/core';
import { HANDLER_CATALOG, createRuntimeHostFromContract, type RuntimeHostProcess } from '@onex/infra';
import { FakeHandler, FakeHandlerSource } from '../runtime/fakes.js';
import { KafkaKit, waitFor, wireEnvelope, type ReadRecord, type TopicSet } from '../helpers/kafka-kit.js';
import { KAFKA_BROKERS, kafkaServerAvailable } from '../helpers/kafka-server.js';

const available = await kafkaServerAvailable();

interface HostOptions {
  readonly maxInFlight?: number;
  readonly extraBusConfig?: readonly string[];
  readonly retry?: boolean;
  readonly drainTimeoutMs?: number;
}

function contractFor(t: TopicSet, o: HostOptions = {}) {
  return parseRuntimeHostContract(
    [
      'runtime:',
      '  name: "kafka-it"',
      '  version: "1.0.0"',
      '  event_bus:',
      '    kind: kafka',
      '    config:',
      '      bootstrap_servers: "${KAFKA_IT_BROKERS}"',
      `      consumer_group: "${t.group}"`,
      '      commit_interval_ms: 50',
      '      session_timeout_ms: 10000',
      '      heartbeat_interval_ms: 1000',
      ...(o.extraBusConfig ?? []).map((l) => `      ${l}`),
      '      topics:',
      `        input: "${t.input}"`,
      `        output: "${t.output}"`,
      `        dead_letter: "${t.deadLetter}"`,
      '  handlers:',
      '    - type: http',
      ...(o.retry
        ? ['      config:', '        timeout_ms: 2000', '        retry_policy: { max_retries: 2, backoff_strategy: fixed, base_delay_ms: 100, max_delay_ms: 100 }', '        bulkhead: { max_concurrent: 8, max_queue: 8 }', '        circuit_breaker: { threshold: 5 }']
        : []),
      '  nodes: []',
      `  max_in_flight: ${o.maxInFlight ?? 16}`,
      `  drain_timeout_ms: ${o.drainTimeoutMs ?? 10000}`,
      '  ingress:',
      '    enabled: false',
    ].join('\n'), { catalog: HANDLER_CATALOG },
  ).contract;
}

const parse = (r: ReadRecord): Record<string, unknown> => JSON.parse(r.value) as Record<string, unknown>;

describe.skipIf(!available)('KafkaEventBus on a real broker', { timeout: 120_000 }, () => {
  const kit = new KafkaKit();
  const hosts: RuntimeHostProcess[] = [];

  afterEach(async () => {
    await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
    await kit.close();
  });

  async function startHost(t: TopicSet, handler: FakeHandler, options: HostOptions = {}): Promise<RuntimeHostProcess> {
    const host = await createRuntimeHostFromContract({ directHandlerCalls: true, contract: contractFor(t, options), env: { KAFKA_IT_BROKERS: KAFKA_BROKERS }, handlerSource: new FakeHandlerSource([handler]) });
    hosts.push(host);
    await host.start();
    await waitFor(() => expect(host.health().ready).toBe(true), 30_000);
    return host;
  }

  it('answers every envelope on the output topic: correlated, caused by the request, headers matching the body', async () => {
    const t = await kit.topics(3);
    const host = await startHost(t, new FakeHandler('http'));
    const out = await kit.reader(t.output);
    const producer = await kit.producer();
    const sent = Array.from({ length: 30 }, (_, n) => wireEnvelope({ operation: 'http.fake', payload: { n } }));
    await producer.send({ topic: t.input, messages: sent.map((e) => ({ key: e.correlation, value: e.text, headers: { correlation_id: e.correlation, envelope_id: e.id } })) });
    await waitFor(() => expect(out).toHaveLength(30));
    for (const e of sent) {
      const record = out.find((r) => parse(r).causation_id === e.id);
      expect(record, `response to ${e.id}`).toBeDefined();
      const body = parse(record as ReadRecord);
      expect(body).toMatchObject({ correlation_id: e.correlation, is_response: true, success: true });
      expect(record?.key).toBe(e.correlation);
      expect(record?.headers).toMatchObject({ correlation_id: e.correlation, envelope_id: body.envelope_id, 'content-type': 'application/json' });
    }
    // Everything finished is committed: the group's offsets reach the end of each partition.
    const high = await kit.highWatermarks(t.input);
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(high));
    const health = await host.bus.healthCheck();
    expect(health).toMatchObject({ kind: 'kafka', group: t.group, state: 'joined', paused: false });
    expect(health.partitions).toHaveLength(3);
  });

  it('dead-letters malformed JSON and non-retryable failures with their details; later messages keep flowing', async () => {
    const t = await kit.topics(1);
    const handler = new FakeHandler('http', {
      behaviour: (envelope) => {
        if ((envelope.payload as { fail?: boolean }).fail) throw new InvalidOperationError('refused on purpose', { hint: 'test' });
        return { ok: true };
      },
    });
    await startHost(t, handler);
    const out = await kit.reader(t.output);
    const dlq = await kit.reader(t.deadLetter);
    const producer = await kit.producer();
    const failing = wireEnvelope({ operation: 'http.fake', payload: { fail: true } });
    const after = wireEnvelope({ operation: 'http.fake', payload: {} });
    await producer.send({
      topic: t.input,
      messages: [
        { key: 'poison', value: '{"operation": "http.fake", ', headers: { source: 'test' } },
        { key: failing.correlation, value: failing.text },
        { key: after.correlation, value: after.text },
      ],
    });
    await waitFor(() => expect(out).toHaveLength(3));
    await waitFor(() => expect(dlq).toHaveLength(2));
    const [malformed, refused] = dlq.map(parse);
    expect(malformed).toMatchObject({
      original_topic: t.input,
      partition: 0,
      offset: '0',
      key: 'poison',
      headers: { source: 'test' },
      raw_value: '{"operation": "http.fake", ',
      raw_value_encoding: 'utf8',
      error: { code: 'ENVELOPE_VALIDATION_ERROR' },
      attempts: 1,
    });
    expect(typeof malformed?.host_id).toBe('string');
    expect(typeof malformed?.dead_lettered_at).toBe('string');
    expect(refused).toMatchObject({ offset: '1', error: { code: 'INVALID_OPERATION', message: 'refused on purpose' }, attempts: 1 });
    // Different keys run in parallel, so the answers come in any order.
    const answers = out.map(parse);
    expect(answers.find((a) => a.causation_id === failing.id)).toMatchObject({ correlation_id: failing.correlation, success: false, error: { code: 'INVALID_OPERATION' } });
    expect(answers.find((a) => a.causation_id === after.id)).toMatchObject({ correlation_id: after.correlation, success: true });
    expect(answers.filter((a) => a.success === false && (a.error as { code: string }).code === 'ENVELOPE_VALIDATION_ERROR')).toHaveLength(1);
    const high = await kit.highWatermarks(t.input);
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(high));
  });

  it('dead-letters a 2 MB unparseable record the dead-letter topic cannot take whole: truncated, linked to its answer, and the partition moves on', async () => {
    // The input topic takes 5 MB records; the dead-letter topic keeps the default max.message.bytes (1 MiB).
    const t = await kit.topics(1, 'big', { 'max.message.bytes': String(5 * 1024 * 1024) });
    await startHost(t, new FakeHandler('http'));
    const out = await kit.reader(t.output);
    const dlq = await kit.reader(t.deadLetter);
    const producer = await kit.producer();
    const poisonCorrelation = '0000000d-0000-4000-8000-0000000000D1';
    const raw = Buffer.from(`{"operation": "http.fake", "payload": "${'x'.repeat(2 * 1024 * 1024)}`);
    // Behind it on the same partition: one record in the poison record's lane (same key), one in another.
    const sameKey = wireEnvelope({ operation: 'http.fake', payload: { n: 1 } });
    const otherKey = wireEnvelope({ operation: 'http.fake', payload: { n: 2 } });
    await producer.send({ topic: t.input, messages: [{ key: 'poison', value: raw, headers: { correlation_id: poisonCorrelation, source: 'test' } }] });
    await producer.send({ topic: t.input, messages: [{ key: 'poison', value: sameKey.text }, { key: otherKey.correlation, value: otherKey.text }] });

    await waitFor(() => expect(out).toHaveLength(3));
    await waitFor(() => expect(dlq).toHaveLength(1));
    const answers = out.map(parse);
    // The answer takes the header's correlation id (lower-cased), and the dead letter repeats it.
    const invalid = answers.find((a) => a.success === false);
    expect(invalid).toMatchObject({ correlation_id: poisonCorrelation.toLowerCase(), error: { code: 'ENVELOPE_VALIDATION_ERROR' } });
    expect(answers.find((a) => a.causation_id === sameKey.id)).toMatchObject({ success: true });
    expect(answers.find((a) => a.causation_id === otherKey.id)).toMatchObject({ success: true });
    const dead = dlq[0] as ReadRecord;
    expect(Buffer.byteLength(dead.value)).toBeLessThan(1024 * 1024);
    const body = parse(dead);
    expect(body).toMatchObject({
      original_topic: t.input,
      partition: 0,
      offset: '0',
      correlation_id: poisonCorrelation.toLowerCase(),
      key: 'poison',
      headers: { correlation_id: poisonCorrelation, source: 'test' },
      truncated: true,
      raw_size: raw.byteLength,
      raw_sha256: createHash('sha256').update(raw).digest('hex'),
      raw_value_encoding: 'utf8',
      error: { code: 'ENVELOPE_VALIDATION_ERROR' },
      attempts: 1,
    });
    expect(raw.toString('utf8').startsWith(body.raw_value as string)).toBe(true);
    expect((body.raw_value as string).length).toBeGreaterThan(0);
    expect(dead.headers).toMatchObject({ 'onex-dead-letter-code': 'ENVELOPE_VALIDATION_ERROR' });
    // The group's committed offset moves past the poison record, to the end of the partition.
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(new Map([[0, 3]])));
  });

  it('a key that keeps failing retryably does not hold other keys of its partition, then goes to the dead-letter topic with its attempts', async () => {
    const t = await kit.topics(1);
    // The other keys are sent only once the broken key has failed its first attempt; its
    // second attempt then waits for one of them to run. If a retrying key held its partition,
    // no other key could run before its retries ended, and the second attempt would give up.
    let otherRan!: () => void;
    const otherRanPromise = new Promise<void>((resolve) => (otherRan = resolve));
    let brokenCalls = 0;
    const handler = new FakeHandler('http', {
      behaviour: async (envelope) => {
        if (!(envelope.payload as { broken?: boolean }).broken) {
          otherRan();
          return { ok: true };
        }
        brokenCalls += 1;
        if (brokenCalls === 2) {
          const waited = await Promise.race([otherRanPromise.then(() => 'ran' as const), new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 1_500))]);
          if (waited === 'blocked') throw new InvalidOperationError('no other key ran while this key was retrying', { hint: 'retries block their partition' });
        }
        throw new InfraConnectionError('dependency down', { transportType: 'http', target: 'dep:80' });
      },
    });
    const host = await startHost(t, handler, { retry: true });
    const out = await kit.reader(t.output);
    const dlq = await kit.reader(t.deadLetter);
    const producer = await kit.producer();
    const broken = wireEnvelope({ operation: 'http.fake', payload: { broken: true }, correlation_id: '0000000b-0000-4000-8000-00000000000b' });
    await producer.send({ topic: t.input, messages: [{ key: broken.correlation, value: broken.text }] });
    await waitFor(() => expect(brokenCalls).toBeGreaterThanOrEqual(1));
    const others = Array.from({ length: 20 }, (_, n) => wireEnvelope({ operation: 'http.fake', payload: { n } }));
    await producer.send({ topic: t.input, messages: others.map((e) => ({ key: e.correlation, value: e.text })) });

    await waitFor(() => expect(out.filter((r) => parse(r).success === true)).toHaveLength(20));
    await waitFor(() => expect(dlq).toHaveLength(1));
    expect(parse(dlq[0] as ReadRecord)).toMatchObject({ key: broken.correlation, error: { code: 'INFRA_CONNECTION_ERROR' }, attempts: 3 });
    expect(out.map(parse).find((a) => a.causation_id === broken.id)).toMatchObject({ success: false, error: { code: 'INFRA_CONNECTION_ERROR', retryable: true } });
    expect(brokenCalls).toBe(3);
    // The policy stack wrapped the handler (breaker on by default, bulkhead from the binding):
    // three transport failures among successes leave the breaker closed, and the host's one
    // retry loop counted the two retries.
    expect(host.circuitStates()).toEqual({ http: 'closed' });
    const scraped = await host.metrics.scrape();
    expect(scraped?.body).toMatch(/^onex_retries_total\{handler_type="http",operation="http\.fake"\} 2$/m);
    const high = await kit.highWatermarks(t.input);
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(high));
  });

  it('keeps the per-key order of 1,000 envelopes on 10 keys with random handler delays, each key\'s answers on one output partition under that key', async () => {
    const t = await kit.topics(4);
    const handler = new FakeHandler('http', {
      behaviour: async (envelope: OnexEnvelope) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
        return envelope.payload;
      },
    });
    await startHost(t, handler, { maxInFlight: 32 });
    const out = await kit.reader(t.output);
    const producer = await kit.producer();
    // Business keys, and a correlation id of its own for every envelope: keyed by correlation
    // id (output_key: correlation_id), one key's answers would spread over the 4 partitions.
    const keys = Array.from({ length: 10 }, (_, k) => `customer-${k}`);
    const sent: { key: string; seq: number }[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const messages = Array.from({ length: 100 }, (_, i) => {
        const seq = batch * 100 + i;
        const key = keys[seq % 10] as string;
        sent.push({ key, seq });
        return { key, value: wireEnvelope({ operation: 'http.fake', payload: { seq } }).text };
      });
      await producer.send({ topic: t.input, messages });
    }
    await waitFor(() => expect(out).toHaveLength(1000), 60_000);
    // The default output_key (input): a reader of the output topic sees each key's answers in
    // order on one partition, under the key.
    const seqOf = (r: ReadRecord) => (parse(r).payload as { seq: number }).seq;
    for (const key of keys) {
      const produced = sent.filter((s) => s.key === key).map((s) => s.seq);
      const answers = out.filter((r) => produced.includes(seqOf(r)));
      expect(answers.map((r) => r.key)).toEqual(produced.map(() => key));
      expect(new Set(answers.map((r) => r.partition)).size).toBe(1);
      expect(answers.map(seqOf)).toEqual(produced);
    }
    // Different keys did run in parallel.
    expect(handler.maxActive).toBeGreaterThan(1);
  });

  it('pauses fetching under a burst of 20x max_in_flight on slow handlers, stays bounded, and completes everything', async () => {
    const t = await kit.topics(1);
    const handler = new FakeHandler('http', {
      behaviour: async (envelope: OnexEnvelope) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return envelope.payload;
      },
    });
    const host = await startHost(t, handler, { maxInFlight: 8, extraBusConfig: ['max_inflight_envelopes: 40', 'pause_consumption_threshold: 30'] });
    const out = await kit.reader(t.output);
    const producer = await kit.producer();
    const total = 8 * 20;
    await producer.send({ topic: t.input, messages: Array.from({ length: total }, (_, n) => ({ value: wireEnvelope({ operation: 'http.fake', payload: { n } }).text })) });
    let sawPaused = false;
    let maxUnfinished = 0;
    await waitFor(async () => {
      const h = await host.bus.healthCheck();
      sawPaused ||= h.paused === true;
      maxUnfinished = Math.max(maxUnfinished, Number(h.unfinished));
      expect(out).toHaveLength(total);
    }, 60_000, 10);
    expect(sawPaused).toBe(true);
    expect(maxUnfinished).toBeLessThanOrEqual(40);
    expect(handler.maxActive).toBeLessThanOrEqual(8);
    await waitFor(async () => expect((await host.bus.healthCheck()).paused).toBe(false));
  });

  it('exactly_once: a read_committed reader sees each response once; offsets commit inside the transactions', async () => {
    const t = await kit.topics(2);
    await startHost(t, new FakeHandler('http'), { extraBusConfig: ['delivery: exactly_once'] });
    const committed = await kit.reader(t.output, { readCommitted: true });
    const producer = await kit.producer();
    const sent = Array.from({ length: 300 }, (_, n) => wireEnvelope({ operation: 'http.fake', payload: { n } }));
    await producer.send({ topic: t.input, messages: sent.map((e) => ({ key: e.correlation, value: e.text })) });
    await waitFor(() => expect(committed).toHaveLength(300), 60_000);
    expect(new Set(committed.map((r) => parse(r).causation_id)).size).toBe(300);
    const high = await kit.highWatermarks(t.input);
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(high));
  });
});
