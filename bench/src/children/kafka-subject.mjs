/**
 * The subject of the Kafka round-trip measure, in a process of its own (its own event loop,
 * as a deployed host would have): consumes the input topic and answers on the output topic.
 *
 *   node kafka-subject.mjs '<json config>'      (forked by measures/kafka.mjs, with IPC)
 *
 * - `onex`: a RuntimeHostProcess built by createRuntimeHostFromContract from a contract with
 *   a Kafka bus (ingress off), routing every envelope to a no-op ComputeNode `identity`.
 * - `raw`: a plain kafkajs consume → produce loop, the ceiling: `eachBatch`, one idempotent
 *   producer (`acks: -1`), each batch echoed with one `send`, processed offsets committed by
 *   hand every `commitIntervalMs` (at-least-once, like the bus).
 *
 * Protocol: the child sends `{ type: 'ready' }` once its consumer joined the group (and, for
 * ONEX, the host reports ready); on `{ type: 'stop' }` it stops cleanly, sends
 * `{ type: 'stopped', stats }` and exits (so `node --cpu-prof` writes its profile).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

/**
 * @typedef {{ kind: 'onex' | 'raw', brokers: string, input: string, output: string, deadLetter: string, group: string,
 *   maxInFlight: number, commitIntervalMs: number, partitionsConsumedConcurrently: number, busConfig: string[] }} SubjectConfig
 */

/** @type {SubjectConfig} */
const config = JSON.parse(process.argv[2] ?? '{}');
const send = (/** @type {unknown} */ message) => process.send?.(message);

/**
 * Sends the last message, then lets the process end on its own; anything left open (a timer,
 * a socket) gets 2 s before a forced exit, which still writes a `--cpu-prof` profile.
 * @param {unknown} message
 */
function leave(message) {
  process.send?.(message, () => {
    process.disconnect?.();
    setTimeout(() => process.exit(), 2_000).unref();
  });
}

/**
 * Counts the produce requests of every kafkajs producer this process makes (the host's
 * included: @onex/infra and the bench resolve the same kafkajs 2.2.4 files), to tell how
 * many records go out per request.
 */
const produce = { requests: 0, ms: 0 };
{
  const { Kafka } = createRequire(import.meta.url)('kafkajs');
  const original = Kafka.prototype.producer;
  Kafka.prototype.producer = function producer(/** @type {any[]} */ ...args) {
    const p = original.apply(this, args);
    p.on(p.events.REQUEST, (/** @type {any} */ e) => {
      if (e.payload.apiName !== 'Produce') return;
      produce.requests += 1;
      produce.ms += e.payload.duration;
    });
    return p;
  };
}
const produceStats = () => ({ produce_requests: produce.requests, produce_mean_ms: produce.requests ? Number((produce.ms / produce.requests).toFixed(2)) : 0 });

/** @returns {Promise<{ stop: () => Promise<Record<string, unknown>> }>} */
async function startOnex() {
  const { ComputeNode, parseRuntimeHostContract } = await import('@onex/core');
  const { createLogger, createRuntimeHostFromContract, HANDLER_CATALOG } = await import('@onex/infra');
  // ONEX_BENCH_KAFKA_LOG=info shows the bus's pause/resume/commit lines on stderr (diagnosis).
  const level = process.env.ONEX_BENCH_KAFKA_LOG;
  const contract = parseRuntimeHostContract(
    [
      'runtime:',
      '  name: "bench-kafka"',
      '  version: "1.0.0"',
      '  event_bus:',
      '    kind: kafka',
      '    config:',
      '      bootstrap_servers: "${BENCH_KAFKA_BROKERS}"',
      `      consumer_group: "${config.group}"`,
      `      commit_interval_ms: ${config.commitIntervalMs}`,
      ...config.busConfig.map((line) => `      ${line}`),
      '      topics:',
      `        input: "${config.input}"`,
      `        output: "${config.output}"`,
      `        dead_letter: "${config.deadLetter}"`,
      '  handlers: []',
      '  nodes: []',
      `  max_in_flight: ${config.maxInFlight}`,
      '  drain_timeout_ms: 10000',
      '  ingress:',
      '    enabled: false',
    ].join('\n'), { catalog: HANDLER_CATALOG },
  ).contract;
  const host = await createRuntimeHostFromContract({
    contract,
    env: { BENCH_KAFKA_BROKERS: config.brokers },
    nodes: [new ComputeNode({ slug: 'identity', compute: (input) => input })],
    ...(level ? { logger: createLogger({ level, destination: process.stderr }) } : {}),
  });
  await host.start();
  // Ready = joined, partitions assigned, broker probed.
  const deadline = performance.now() + 60_000;
  while (!host.health().ready) {
    if (performance.now() > deadline) throw new Error(`ONEX host not ready after 60 s: ${host.health().not_ready_reason}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    async stop() {
      const bus = await host.bus.healthCheck();
      const h = host.health();
      await host.stop();
      return { processed: h.processed, failed: h.failed, replayed: h.replayed, commits: bus.commits, duplicates_skipped: bus.duplicates_skipped, rebalances: bus.rebalances, ...produceStats() };
    },
  };
}

/** @returns {Promise<{ stop: () => Promise<Record<string, unknown>> }>} */
async function startRaw() {
  const { Kafka, Partitioners, logLevel } = await import('kafkajs');
  // The same client settings as the ONEX bus's KafkajsClient (host-from-contract defaults).
  const kafka = new Kafka({
    clientId: 'bench-raw',
    brokers: config.brokers.split(','),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({
    groupId: config.group,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    rebalanceTimeout: 60_000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    readUncommitted: false,
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [config.input], fromBeginning: true });
  /** Next offset to commit per partition (last processed + 1), not yet committed. */
  /** @type {Map<number, string>} */
  const processed = new Map();
  let commits = 0;
  let echoed = 0;
  /** @type {Promise<void> | undefined} */
  let committing;
  const commit = () => {
    if (committing || processed.size === 0) return committing;
    const offsets = [...processed].map(([partition, offset]) => ({ topic: config.input, partition, offset }));
    processed.clear();
    committing = consumer
      .commitOffsets(offsets)
      .then(() => {
        commits += 1;
      })
      .catch(() => {
        // Not fatal here either: a later commit carries a higher offset.
        for (const o of offsets) if (!processed.has(o.partition)) processed.set(o.partition, o.offset);
      })
      .finally(() => {
        committing = undefined;
      });
    return committing;
  };
  let joined = /** @type {() => void} */ (() => undefined);
  const ready = new Promise((resolve) => {
    joined = () => resolve(undefined);
  });
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return;
      // Echo the whole batch in one produce request, acknowledged by all in-sync replicas.
      await producer.send({ topic: config.output, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      const last = batch.lastOffset();
      resolveOffset(last);
      processed.set(batch.partition, (BigInt(last) + 1n).toString());
      echoed += batch.messages.length;
      await heartbeat();
    },
  });
  const timer = setInterval(() => void commit(), config.commitIntervalMs);
  await ready;
  return {
    async stop() {
      clearInterval(timer);
      await committing;
      await commit();
      await consumer.disconnect();
      await producer.disconnect();
      return { processed: echoed, commits, ...produceStats() };
    },
  };
}

try {
  const subject = config.kind === 'onex' ? await startOnex() : await startRaw();
  // CPU this process spends from ready to stop: warm-up and measured envelopes, not start-up.
  const cpuAtReady = process.cpuUsage();
  process.on('message', (/** @type {{ type?: string }} */ message) => {
    if (message?.type !== 'stop') return;
    const cpu = process.cpuUsage(cpuAtReady);
    subject.stop().then(
      (stats) => leave({ type: 'stopped', stats: { ...stats, cpu_ms: Math.round((cpu.user + cpu.system) / 1000) } }),
      (error) => leave({ type: 'error', message: `stop failed: ${error instanceof Error ? error.message : String(error)}` }),
    );
  });
  send({ type: 'ready' });
} catch (error) {
  process.exitCode = 1;
  leave({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
