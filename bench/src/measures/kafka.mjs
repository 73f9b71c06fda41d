/**
 * Measure 6: the Kafka round trip on a real broker. A plain kafkajs producer (this process)
 * writes N wire envelopes (JSON text, key = correlation_id, spread over 4 partitions) to
 * the input topic; the subject, in a child process, answers each on the output topic; a
 * plain kafkajs consumer (this process) reads the answers.
 *
 * - ONEX: a RuntimeHostProcess built by createRuntimeHostFromContract (Kafka bus, default
 *   bus tuning, max_in_flight 64, ingress off) routing to a no-op ComputeNode.
 * - Baseline (the ceiling): a raw kafkajs consume → produce loop with the same client
 *   settings, eachBatch, an idempotent producer with acks -1, offsets committed by hand
 *   every 200 ms (at-least-once too), echoing each message.
 *
 * Throughput = N / (first send → last answer). Latency = answer received − its send call,
 * per envelope (matched by record key; the producer writes the whole burst at once, so
 * latency includes the time an envelope waits in the topic behind the others).
 *
 * Each trial uses fresh topics and a fresh group, deleted afterwards. kafkajs 2.2.4 loops
 * of 100,000 messages were seen not to finish on this machine (docs/benchmarks.md), so N
 * stays at 20,000 by default and every phase has a deadline that reports how far it got.
 *
 *   ONEX_KAFKA_BROKERS=host:port        broker (default 127.0.0.1:9092)
 *   ONEX_BENCH_KAFKA_N=20000            envelopes per measured phase (after 2,000 warm-up)
 *   ONEX_BENCH_KAFKA_SUBJECTS=onex,raw  subjects to run (one alone while profiling)
 *   ONEX_BENCH_KAFKA_CHILD_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node flags of the subject
 *   ONEX_BENCH_KAFKA_BUS_CONFIG="max_inflight_envelopes: 2000; pause_consumption_threshold: 1600"   bus tuning
 *   ONEX_BENCH_KAFKA_MAX_IN_FLIGHT=64   the host's max_in_flight
 *   ONEX_BENCH_KAFKA_LOG=info           the ONEX subject logs (pause/resume, commits) to stderr
 *   ONEX_BENCH_KAFKA_VERBOSE=1          one line per trial (throughput, latency, subject counters)
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { medianRun, percentile } from '../lib/drive.mjs';
import { latency, ops, times, verdict } from '../lib/table.mjs';

export const KAFKA_BROKERS = process.env.ONEX_KAFKA_BROKERS ?? '127.0.0.1:9092';
const N = Number(process.env.ONEX_BENCH_KAFKA_N || 20_000);
const WARMUP = Math.min(2_000, N);
const PARTITIONS = 4;
const MAX_IN_FLIGHT = Number(process.env.ONEX_BENCH_KAFKA_MAX_IN_FLIGHT || 64);
/** Extra `event_bus.config` lines for the judged ONEX subject (tuning experiments); none = bus defaults. */
const BUS_CONFIG = (process.env.ONEX_BENCH_KAFKA_BUS_CONFIG ?? '').split(';').map((l) => l.trim()).filter(Boolean);
const COMMIT_INTERVAL_MS = 200;
/** The raw loop's eachBatch concurrency (the bus itself runs kafkajs with 1). */
const RAW_PARTITIONS_CONCURRENTLY = Number(process.env.ONEX_BENCH_KAFKA_RAW_PCC || 1);
/** Messages per producer `send` call of the driver. */
const CHUNK = 500;
/** How long one phase may take before it counts as stalled. */
const PHASE_DEADLINE_MS = 300_000;
const TARGET = 0.8;
const CHILD = fileURLToPath(new URL('../children/kafka-subject.mjs', import.meta.url));

/**
 * The subjects, in the order of the table. `onex` is judged; `onex-nopause` takes the whole
 * burst in (the cap above N), so the bus never pauses fetching: it shows what the rest of the
 * path costs. Select some with ONEX_BENCH_KAFKA_SUBJECTS=onex,raw.
 * @typedef {{ id: string, kind: 'onex' | 'raw', maxInFlight: number, busConfig: string[] }} Variant
 * @type {Variant[]}
 */
const ALL_VARIANTS = [
  { id: 'onex', kind: 'onex', maxInFlight: MAX_IN_FLIGHT, busConfig: BUS_CONFIG },
  { id: 'onex-nopause', kind: 'onex', maxInFlight: MAX_IN_FLIGHT, busConfig: [`max_inflight_envelopes: ${N + WARMUP}`, `pause_consumption_threshold: ${N + WARMUP}`] },
  { id: 'raw', kind: 'raw', maxInFlight: 0, busConfig: [] },
];

const busText = BUS_CONFIG.length === 0 ? `bus defaults (max_inflight_envelopes 100, pause at 80, commit every ${COMMIT_INTERVAL_MS} ms)` : BUS_CONFIG.join(', ');
export const KAFKA_BASELINE = `raw kafkajs eachBatch → one send per batch (idempotent, acks -1, commits every ${COMMIT_INTERVAL_MS} ms)`;

/** Whether something accepts TCP connections at the first broker's address. */
function reachable(hostPort = KAFKA_BROKERS.split(',')[0] ?? '', timeoutMs = 1_500) {
  const [host = '127.0.0.1', port = '9092'] = hostPort.trim().split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * @typedef {{ input: string, output: string, deadLetter: string, group: string }} Topics
 * @typedef {import('../lib/drive.mjs').RunResult & { stats: Record<string, unknown> }} TrialResult
 */

/**
 * The subject in a child process; resolves once it is consuming.
 * @param {Variant} variant @param {Topics} topics
 */
async function startSubject(variant, topics) {
  const { kind, maxInFlight, busConfig } = variant;
  const config = { kind, brokers: KAFKA_BROKERS, ...topics, maxInFlight, commitIntervalMs: COMMIT_INTERVAL_MS, partitionsConsumedConcurrently: RAW_PARTITIONS_CONCURRENTLY, busConfig };
  const execArgv = (process.env.ONEX_BENCH_KAFKA_CHILD_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = fork(CHILD, [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-2_000);
    if (process.env.ONEX_BENCH_KAFKA_LOG) process.stderr.write(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  /** @type {(type: string, timeoutMs: number) => Promise<any>} */
  const next = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} subject: no "${type}" within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-400)}`)), timeoutMs);
      const onMessage = (/** @type {any} */ m) => {
        if (m?.type !== type && m?.type !== 'error') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.type === 'error') reject(new Error(`${kind} subject: ${m.message}; stderr: ${stderr.trim().slice(-400)}`));
        else resolve(m);
      };
      child.on('message', onMessage);
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`${kind} subject exited (${String(how)}) before "${type}"; stderr: ${stderr.trim().slice(-400)}`));
      });
    });
  try {
    await next('ready', 90_000);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    /** Stops the subject cleanly and returns its own counters. @returns {Promise<Record<string, unknown>>} */
    async stop() {
      child.send({ type: 'stop' });
      try {
        const { stats } = await next('stopped', 30_000);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        return stats;
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill();
      }
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/** A wire envelope as an outside producer writes it, for the `identity` node. */
function wireEnvelope(/** @type {number} */ n) {
  const correlation = randomUUID();
  const value = JSON.stringify({
    envelope_id: randomUUID(),
    envelope_version: '1.0.0',
    correlation_id: correlation,
    operation: 'bench.identity',
    target_node: 'identity',
    payload: { n },
    metadata: {},
    timestamp: new Date().toISOString(),
    is_response: false,
  });
  return { key: correlation, value };
}

/**
 * Drives one subject on fresh topics: warm-up, then the measured burst.
 * @param {typeof import('kafkajs')} kafkajs @param {import('kafkajs').Kafka} kafka @param {Variant} variant @returns {Promise<TrialResult>}
 */
async function trial(kafkajs, kafka, variant) {
  const { kind } = variant;
  const id = `${kind}${randomUUID().slice(0, 8)}`;
  /** @type {Topics} */
  const topics = { input: `onex.bench.${id}.cmd.v1`, output: `onex.bench.${id}.evt.v1`, deadLetter: `onex.bench.${id}.error.v1`, group: `onex-bench-${id}` };
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  const reader = kafka.consumer({ groupId: `onex-bench-reader-${id}`, maxWaitTimeInMs: 100 });
  /** @type {Awaited<ReturnType<typeof startSubject>> | undefined} */
  let subject;
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [topics.input, topics.output, topics.deadLetter].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })) });

    /** Send time per key of the phase in progress. @type {Map<string, number>} */
    const sentAt = new Map();
    /** @type {number[]} */
    let samples = [];
    /** Answers the phase in progress waits for. */
    let expected = 0;
    let lastAt = 0;
    let unexpected = 0;
    let answerBytes = 0;
    let errors = 0;
    /** @type {(() => void) | undefined} */
    let allAnswered;
    await producer.connect();
    await reader.connect();
    await reader.subscribe({ topics: [topics.output], fromBeginning: true });
    let joined = /** @type {() => void} */ (() => undefined);
    const readerJoined = new Promise((resolve) => {
      joined = () => resolve(undefined);
    });
    reader.on(reader.events.GROUP_JOIN, () => joined());
    await reader.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        // One fetch arrives at once: one timestamp for the batch.
        const now = performance.now();
        for (const m of batch.messages) {
          const key = m.key?.toString() ?? '';
          const t = sentAt.get(key);
          if (t === undefined) {
            unexpected += 1;
            continue;
          }
          sentAt.delete(key);
          samples.push(now - t);
          answerBytes += m.value?.length ?? 0;
          // ONEX answers are envelopes: a benchmark of error responses measures nothing.
          if (kind === 'onex' && m.value?.indexOf('"success":true') === -1) errors += 1;
        }
        lastAt = now;
        // Not `sentAt.size === 0`: the producer may still be writing the burst.
        if (samples.length >= expected) allAnswered?.();
      },
    });
    await readerJoined;
    subject = await startSubject(variant, topics);

    /** @param {number} count */
    const phase = async (count) => {
      const messages = Array.from({ length: count }, (_, n) => wireEnvelope(n));
      samples = [];
      answerBytes = 0;
      expected = count;
      const done = new Promise((resolve) => {
        allAnswered = () => resolve(undefined);
      });
      const deadlineMs = PHASE_DEADLINE_MS;
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${kind}: ${samples.length} of ${count} answered after ${deadlineMs / 1000} s (kafkajs stall?)`)), deadlineMs);
      });
      const started = performance.now();
      for (let i = 0; i < count; i += CHUNK) {
        const chunk = messages.slice(i, i + CHUNK);
        const t = performance.now();
        for (const m of chunk) sentAt.set(m.key, t);
        await producer.send({ topic: topics.input, acks: -1, messages: chunk });
      }
      const sentMs = performance.now() - started;
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
      return { sentMs, elapsedMs: lastAt - started };
    };

    await phase(WARMUP);
    const { elapsedMs, sentMs } = await phase(N);
    const sorted = Float64Array.from(samples).sort();
    const stats = await subject.stop();
    subject = undefined;
    if (errors > 0) throw new Error(`${kind}: ${errors} error responses`);
    const cpuMs = Number(stats.cpu_ms);
    return {
      opsPerSec: (N / elapsedMs) * 1000,
      p50Us: percentile(sorted, 0.5) * 1000,
      p99Us: percentile(sorted, 0.99) * 1000,
      meanUs: (elapsedMs * 1000) / N,
      iterations: N,
      elapsedMs,
      stats: { ...stats, cpu_us_per_envelope: Math.round((cpuMs * 1000) / (N + WARMUP)), answer_bytes: Math.round(answerBytes / N), unexpected, producer_done_ms: Math.round(sentMs), elapsed_ms: Math.round(elapsedMs) },
    };
  } finally {
    subject?.kill();
    await Promise.allSettled([reader.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topics.input, topics.output, topics.deadLetter] }).catch(() => undefined);
    await admin.deleteGroups([topics.group, `onex-bench-reader-${id}`]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * @param {{ reps: number }} options
 * @returns {Promise<import('../lib/table.mjs').Row[]>}
 */
export async function kafkaMeasures({ reps }) {
  const wanted = new Set((process.env.ONEX_BENCH_KAFKA_SUBJECTS ?? ALL_VARIANTS.map((v) => v.id).join(',')).split(','));
  const variants = ALL_VARIANTS.filter((v) => wanted.has(v.id));
  const broker = KAFKA_BROKERS.split(',')[0]?.trim() ?? KAFKA_BROKERS;
  const setup = `${N.toLocaleString('en-US')} envelopes burst over ${PARTITIONS} partitions, max_in_flight ${MAX_IN_FLIGHT}`;
  /** @type {import('../lib/table.mjs').Row} */
  const judged = { measure: '6 Kafka round trip', conc: String(MAX_IN_FLIGHT), subject: `host (Kafka bus) → ComputeNode identity, ${setup}, ${busText}`, subjectValue: '–', subjectLatency: '–', baseline: KAFKA_BASELINE, baselineValue: '–', baselineLatency: '–', ratio: '–', target: `≥ ${TARGET}×`, verdict: '–' };
  if (!(await reachable())) return [{ ...judged, verdict: `skipped: no broker at ${broker}` }];
  // Loaded only here, so the other measures run in a process without it.
  const kafkajs = (await import('kafkajs')).default;
  const kafka = new kafkajs.Kafka({ clientId: 'onex-bench-driver', brokers: KAFKA_BROKERS.split(','), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
  /** @type {Map<string, TrialResult[]>} */
  const runs = new Map(variants.map((v) => [v.id, []]));
  for (let rep = 0; rep < reps; rep += 1) {
    // Rotate who goes first, as the other measures do.
    const order = variants.map((_, i) => /** @type {Variant} */ (variants[(i + rep) % variants.length]));
    for (const variant of order) {
      const r = await trial(kafkajs, kafka, variant);
      runs.get(variant.id)?.push(r);
      if (process.env.ONEX_BENCH_KAFKA_VERBOSE) {
        process.stderr.write(`\n  ${variant.id} rep ${rep + 1}: ${ops(r.opsPerSec)}, p50 ${latency(r)}, ${JSON.stringify(r.stats)}`);
      }
    }
  }
  const median = (/** @type {string} */ id) => (runs.get(id)?.length ? medianRun(runs.get(id) ?? []) : undefined);
  const raw = median('raw');
  /** @param {import('../lib/table.mjs').Row} row @param {TrialResult | undefined} onex @param {boolean} isJudged */
  const fill = (row, onex, isJudged) => {
    const ratio = onex && raw ? onex.opsPerSec / raw.opsPerSec : undefined;
    return {
      ...row,
      subjectValue: onex ? ops(onex.opsPerSec) : '–',
      subjectLatency: onex ? latency(onex) : '–',
      baselineValue: raw ? ops(raw.opsPerSec) : '–',
      baselineLatency: raw ? latency(raw) : '–',
      ratio: ratio === undefined ? '–' : times(ratio),
      target: isJudged ? row.target : '–',
      verdict: ratio === undefined || !isJudged ? '–' : verdict(ratio >= TARGET),
    };
  };
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  if (runs.has('onex') || !runs.has('onex-nopause')) rows.push(fill(judged, median('onex'), true));
  if (runs.has('onex-nopause')) {
    const subject = `same, max_inflight_envelopes ${(N + WARMUP).toLocaleString('en-US')} (takes the whole burst, never pauses)`;
    rows.push(fill({ ...judged, measure: '6 Kafka round trip (info)', subject }, median('onex-nopause'), false));
  }
  return rows;
}
