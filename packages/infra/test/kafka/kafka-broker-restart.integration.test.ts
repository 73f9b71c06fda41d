/**
 * Broker restart chaos (spec 4.10): a runtime host consumes a steady stream from a PRIVATE
 * broker (127.0.0.1:19092, never the shared 9092 one), the broker is stopped for about five
 * seconds mid-stream and started again on the same data. While it is down the host reports
 * not ready (with a reason) and never crashes; afterwards it is ready again and every
 * envelope the producer got an acknowledgement for has a response on the output topic.
 * Duplicates are allowed (at-least-once) and printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuntimeHostContract } from '@onex/core';
import { HANDLER_CATALOG, createLogger, createRuntimeHostFromContract, type RuntimeHostProcess } from '@onex/infra';
import { FakeHandler, FakeHandlerSource } from '../runtime/fakes.js';
import { KafkaKit, waitFor, wireEnvelope, type TopicSet } from '../helpers/kafka-kit.js';
import { kafkaServerAvailable, startPrivateBroker, type PrivateBroker } from '../helpers/kafka-server.js';

// The shared broker being up means Kafka is installed here; the test runs its own instance.
const available = await kafkaServerAvailable();

const BROKER_PORT = 19092;
const CONTROLLER_PORT = 19093;
const TOTAL = 1_500;
const BATCH = 20;
const EVERY_MS = 100;
/**
 * How long the broker stays down. Spec 4.10 asks for about 5 s; a longer outage can be tried
 * with ONEX_CHAOS_OUTAGE_MS (e.g. 40000: kafkajs gives up on the consumer, which the host
 * must rebuild, repeatedly, until the broker is back).
 */
const OUTAGE_MS = Number(process.env.ONEX_CHAOS_OUTAGE_MS ?? 5_000);

function contractFor(t: TopicSet) {
  return parseRuntimeHostContract(
    [
      'runtime:',
      '  name: "kafka-chaos"',
      '  version: "1.0.0"',
      '  event_bus:',
      '    kind: kafka',
      '    config:',
      '      bootstrap_servers: "${KAFKA_CHAOS_BROKERS}"',
      `      consumer_group: "${t.group}"`,
      '      commit_interval_ms: 50',
      '      session_timeout_ms: 10000',
      '      heartbeat_interval_ms: 1000',
      '      connection_timeout_ms: 1000',
      '      request_timeout_ms: 5000',
      '      topics:',
      `        input: "${t.input}"`,
      `        output: "${t.output}"`,
      `        dead_letter: "${t.deadLetter}"`,
      '  handlers:',
      '    - type: http',
      '  nodes: []',
      '  max_in_flight: 16',
      '  drain_timeout_ms: 10000',
      '  ingress:',
      '    enabled: false',
    ].join('\n'), { catalog: HANDLER_CATALOG },
  ).contract;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Observations {
  produced: number;
  acked: Set<string>;
  /** Batches the producer had to send again after kafkajs gave up on them. */
  resends: number;
  firstSendError: string | undefined;
  /** `causation_id` → responses on the output topic. */
  answered: Map<string, number>;
  responses: number;
  duplicateExecutions: number;
  callsWhenStopped: number;
  statesSeen: Set<string>;
  /** Health polls (every 100 ms) during the outage, and the not-ready reasons among them. */
  pollsWhileDown: number;
  notReadyWhileDown: string[];
  readyAgain: boolean;
  finalState: string;
  finalHealth: ReturnType<RuntimeHostProcess['health']>;
  logs: LogLine[];
}

type LogLine = { level: string; msg: string; time: string };

describe.skipIf(!available)('Kafka broker restart under load (private broker)', { timeout: 300_000 }, () => {
  let broker: PrivateBroker | undefined;
  let kit: KafkaKit | undefined;
  let host: RuntimeHostProcess | undefined;
  let seen: Observations | undefined;

  /** The scenario runs once; the tests below each check one part of what it observed. */
  beforeAll(async () => {
    const b = (broker = await startPrivateBroker(BROKER_PORT, CONTROLLER_PORT));
    const k = (kit = new KafkaKit(b.brokers));
    const t = await k.topics(3, 'chaos');

    // Warnings and errors only (kafkajs logs through the host's logger): the story of the outage.
    const logs: LogLine[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
    const handler = new FakeHandler('http');
    const h = (host = await createRuntimeHostFromContract({
      directHandlerCalls: true,
      contract: contractFor(t),
      env: { KAFKA_CHAOS_BROKERS: b.brokers },
      handlerSource: new FakeHandlerSource([handler]),
      logger,
    }));
    await h.start();
    await waitFor(() => expect(h.health().ready).toBe(true), 60_000);

    // Watch the host the whole time: it must never leave 'running'.
    const statesSeen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        statesSeen.add(h.health().state);
        await sleep(100);
      }
    })();

    // A plain kafkajs producer (idempotent, retrying) writes 20 envelopes every 100 ms. When
    // kafkajs gives up on a batch (it does during the outage, see the report), the producer
    // sends the same batch again, as an application would: an envelope counts once acknowledged.
    const producer = await k.producer();
    const acked = new Set<string>();
    let resends = 0;
    let firstSendError: string | undefined;
    const production = (async () => {
      for (let sent = 0; sent < TOTAL; sent += BATCH) {
        const envelopes = Array.from({ length: BATCH }, (_, i) => wireEnvelope({ operation: 'http.fake', payload: { n: sent + i } }));
        const messages = envelopes.map((e) => ({ key: e.correlation, value: e.text, headers: { correlation_id: e.correlation, envelope_id: e.id } }));
        for (let attempt = 0; ; attempt += 1) {
          try {
            await producer.send({ topic: t.input, messages });
            for (const e of envelopes) acked.add(e.id);
            break;
          } catch (error) {
            firstSendError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            if (attempt >= 30) break;
            resends += 1;
            await sleep(1_000);
          }
        }
        await sleep(EVERY_MS);
      }
    })();

    await waitFor(() => expect(handler.calls.length).toBeGreaterThanOrEqual(TOTAL / 3), 120_000, 20);
    const callsWhenStopped = handler.calls.length;
    await b.stop();
    const downAt = Date.now();
    let pollsWhileDown = 0;
    const notReadyWhileDown: string[] = [];
    while (Date.now() - downAt < OUTAGE_MS) {
      const health = h.health();
      pollsWhileDown += 1;
      if (!health.ready) notReadyWhileDown.push(health.not_ready_reason ?? '(no reason)');
      await sleep(100);
    }
    const callsWhileDown = handler.calls.length - callsWhenStopped;
    await b.start();
    const upAt = Date.now();
    const callsAtStart = handler.calls.length;
    const resumedAfterMs = await waitFor(() => expect(handler.calls.length).toBeGreaterThan(callsAtStart), 60_000, 20).then(
      () => Date.now() - upAt,
      () => undefined,
    );
    const readyAgain = await waitFor(() => expect(h.health().ready).toBe(true), 60_000, 100).then(
      () => true,
      () => false,
    );

    await production;
    // Read the answers only after recovery, with a reader of our own from the beginning.
    const out = await k.reader(t.output);
    const answered = new Map<string, number>();
    await waitFor(
      () => {
        answered.clear();
        for (const r of out) {
          const causation = (JSON.parse(r.value) as { causation_id?: string }).causation_id ?? '';
          answered.set(causation, (answered.get(causation) ?? 0) + 1);
        }
        expect([...acked].filter((id) => !answered.has(id))).toEqual([]);
      },
      // A host that never took work again will not answer: do not wait minutes to say so.
      resumedAfterMs === undefined ? 5_000 : 180_000,
      250,
    ).catch(() => undefined);
    watching = false;
    await watcher;

    const executions = new Map<string, number>();
    for (const c of handler.calls) executions.set(c.envelope.envelopeId, (executions.get(c.envelope.envelopeId) ?? 0) + 1);
    seen = {
      produced: TOTAL,
      acked,
      resends,
      firstSendError,
      answered,
      responses: out.length,
      duplicateExecutions: [...executions.values()].reduce((n, count) => n + count - 1, 0),
      callsWhenStopped,
      statesSeen,
      pollsWhileDown,
      notReadyWhileDown,
      readyAgain,
      finalState: h.state,
      finalHealth: h.health(),
      logs,
    };

    const byMessage = new Map<string, number>();
    for (const l of logs) byMessage.set(`${l.level} ${l.msg}`, (byMessage.get(`${l.level} ${l.msg}`) ?? 0) + 1);
    console.log(
      [
        `[chaos] produced ${TOTAL}: acknowledged ${acked.size}; batches sent again after kafkajs gave up: ${resends}${firstSendError ? ` (first error: ${firstSendError})` : ''}`,
        `[chaos] broker stopped after ${callsWhenStopped} handler calls (${callsWhileDown} more while down); handler called again ${resumedAfterMs === undefined ? 'never' : `${resumedAfterMs} ms after the broker answered again`}; ready again: ${readyAgain}`,
        `[chaos] responses ${out.length} for ${answered.size} distinct requests; duplicate responses ${[...answered.values()].reduce((n, c) => n + c - 1, 0)}; duplicate executions ${seen.duplicateExecutions}`,
        `[chaos] not ready in ${notReadyWhileDown.length} of ${pollsWhileDown} polls while the broker was down${notReadyWhileDown[0] ? `, e.g. "${notReadyWhileDown[0]}"` : ''}`,
        `[chaos] at the end: host ${h.state}, ready ${String(seen.finalHealth.ready)}${seen.finalHealth.not_ready_reason ? ` (${seen.finalHealth.not_ready_reason})` : ''}`,
        `[chaos] host states seen: ${[...statesSeen].join(', ')}; warn/error lines by message:`,
        ...[...byMessage].sort((a, b2) => b2[1] - a[1]).map(([m, n]) => `    ${n} × ${m}`),
      ].join('\n'),
    );
  }, 300_000);

  afterAll(async () => {
    await host?.stop().catch(() => undefined);
    await kit?.close().catch(() => undefined);
    await broker?.down();
  }, 120_000);

  function observed(): Observations {
    if (seen === undefined) throw new Error('the chaos scenario did not complete; see the beforeAll error');
    return seen;
  }

  // Spec 4.10's 5 s outage. A longer one (ONEX_CHAOS_OUTAGE_MS=40000, about 3 minutes) once
  // left the consumer crashed for good: a rebuild that failed while the broker was still
  // down scheduled no further rebuild. Kept out of the default run for its length.
  it('keeps running through the outage, is ready again after it, and answers every acknowledged envelope', () => {
    const o = observed();
    expect([...o.statesSeen]).toEqual(['running']);
    expect(o.finalState).toBe('running');
    expect(o.readyAgain).toBe(true);
    expect(o.finalHealth).toMatchObject({ live: true, ready: true });
    expect(o.acked.size).toBe(o.produced);
    const unanswered = [...o.acked].filter((id) => !o.answered.has(id));
    if (unanswered.length > 0) {
      console.error(`[chaos] ${unanswered.length} acknowledged envelopes without a response; last warn/error lines:`);
      for (const l of o.logs.slice(-60)) console.error(`  ${l.time} ${l.level} ${l.msg}`);
    }
    expect(unanswered).toEqual([]);
  });

  // Regression: the probe's admin used to inherit the main client's connection retries and
  // hung 22–24 s with the broker down, so readiness stayed true through a 5 s outage.
  it('reports not ready, with a reason, while the broker is down', () => {
    const o = observed();
    expect(o.notReadyWhileDown.length, `not ready in ${o.notReadyWhileDown.length} of ${o.pollsWhileDown} polls`).toBeGreaterThan(0);
    expect(o.notReadyWhileDown.every((r) => r.length > 0 && r !== '(no reason)')).toBe(true);
  });
});
