/**
 * Test kit for driving the real `onex-runtime-host` binary against the real Kafka broker and
 * PostgreSQL on loopback: server checks that skip loudly (and fail under CI=true), unique
 * topics, plain kafkajs producers and readers acting as clients nobody wrote for this
 * project, a side-effect table, and binary processes with their health endpoints and logs.
 * Everything it opens, `close()` closes; every process it spawns, `stopAll()` ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import type pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built binary (`turbo run build --filter=@onex/runtime-host...`). */
export const BIN = path.resolve(here, '../../dist/cli.js');

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
/** Comma-separated `host:port` list of the shared broker (tooling/services/kafka.sh). */
export const KAFKA_BROKERS = process.env.ONEX_KAFKA_BROKERS ?? '127.0.0.1:9092';
/** The test database (tooling/services/postgres.sh). */
export const PG_URL = process.env.ONEX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/onex_test';

function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when the server answers; otherwise a loud skip locally, an error under CI. */
export async function requireServer(name: string, host: string, port: number, howToStart: string): Promise<boolean> {
  if (await isReachable(host, port)) return true;
  const reason = `${name} is not reachable on ${host}:${port}. Start it with: ${howToStart}`;
  if (IN_CI) throw new Error(`[integration] ${reason} (CI=true: integration tests must not skip)`);
  console.warn(`\n[integration] SKIPPING ${name} tests: ${reason}\n`);
  return false;
}

/** Both servers the binary tests need (checked both, so every missing one is named). */
export async function kafkaAndPostgresAvailable(): Promise<boolean> {
  const [kafkaHost = '127.0.0.1', kafkaPort = '9092'] = (KAFKA_BROKERS.split(',')[0] ?? '').trim().split(':');
  const pgUrl = new URL(PG_URL);
  const [kafka, postgres] = await Promise.all([
    requireServer('Kafka', kafkaHost, Number(kafkaPort), 'bash tooling/services/kafka.sh'),
    requireServer('PostgreSQL', pgUrl.hostname, Number(pgUrl.port || 5432), 'bash tooling/services/postgres.sh'),
  ]);
  return kafka && postgres;
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

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ Kafka

export interface TopicSet {
  readonly input: string;
  readonly output: string;
  readonly deadLetter: string;
  readonly group: string;
}

/** A record read back from a topic; `body` is its JSON value (undefined when not JSON). */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly body: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;
}

/** A request envelope as an outside producer writes it. */
export interface WireEnvelope {
  readonly id: string;
  readonly correlation: string;
  readonly text: string;
}

export function wireEnvelope(fields: { operation: string; payload?: unknown; target_node?: string; envelope_id?: string }): WireEnvelope {
  const id = fields.envelope_id ?? randomUUID();
  const correlation = randomUUID();
  const text = JSON.stringify({
    envelope_id: id,
    envelope_version: '1.0.0',
    correlation_id: correlation,
    operation: fields.operation,
    payload: fields.payload ?? {},
    metadata: {},
    timestamp: new Date().toISOString(),
    is_response: false,
    ...(fields.target_node === undefined ? {} : { target_node: fields.target_node }),
  });
  return { id, correlation, text };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class KafkaKit {
  readonly kafka = new Kafka({ clientId: 'onex-binary-test-client', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
  readonly #producers: Producer[] = [];
  readonly #consumers: Consumer[] = [];
  readonly #topics: string[] = [];
  readonly #groups: string[] = [];

  /** Fresh input/output/dead-letter topics (all with `partitions`) and a group name. */
  async topics(partitions: number, label: string): Promise<TopicSet> {
    const id = `${label}${randomUUID().slice(0, 8)}`;
    const set: TopicSet = { input: `onex.test.${id}.cmd.v1`, output: `onex.test.${id}.evt.v1`, deadLetter: `onex.test.${id}.error.v1`, group: `onex-bin-${id}` };
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      this.#topics.push(set.input, set.output, set.deadLetter);
      this.#groups.push(set.group);
      await admin.createTopics({ waitForLeaders: true, topics: [set.input, set.output, set.deadLetter].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
    } finally {
      await admin.disconnect();
    }
    return set;
  }

  async producer(): Promise<Producer> {
    const p = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    this.#producers.push(p);
    await p.connect();
    return p;
  }

  /** Writes envelopes as an outside producer does: key = correlation_id, ids in headers too. */
  async produce(topic: string, envelopes: readonly WireEnvelope[], batchSize = 500): Promise<void> {
    const producer = await this.producer();
    for (let i = 0; i < envelopes.length; i += batchSize) {
      await producer.send({
        topic,
        messages: envelopes.slice(i, i + batchSize).map((e) => ({ key: e.correlation, value: e.text, headers: { correlation_id: e.correlation, envelope_id: e.id } })),
      });
    }
  }

  /** Reads every record of `topic` from the beginning into the returned array, as it arrives. */
  async reader(topic: string): Promise<ReadRecord[]> {
    const records: ReadRecord[] = [];
    const consumer = this.kafka.consumer({ groupId: `onex-bin-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
    this.#consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
        const value = message.value?.toString() ?? '';
        records.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value, body: parseJson(value), headers });
      },
    });
    await ready;
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

  /**
   * Disconnects every client and deletes the topics and consumer groups this kit named
   * (the readers' groups go away by themselves once empty and without offsets). Stop the
   * hosts first: a group with members cannot be deleted.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#producers.splice(0).map((p) => p.disconnect()), ...this.#consumers.splice(0).map((c) => c.disconnect())]);
    if (this.#topics.length > 0 || this.#groups.length > 0) {
      const admin = this.kafka.admin();
      await admin.connect().catch(() => undefined);
      await admin.deleteTopics({ topics: this.#topics.splice(0) }).catch(() => undefined);
      await admin.deleteGroups(this.#groups.splice(0)).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
}

// ------------------------------------------------------------------ PostgreSQL

/** One table the test's envelopes insert into: a row per executed side effect. */
export class SideEffectTable {
  readonly name = `onex_it_fx_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async create(): Promise<this> {
    await this.#pool.query(`create table ${this.name} (envelope_id text not null)`);
    return this;
  }

  /** The one statement each envelope runs; `seconds` of pg_sleep makes the handler slow. */
  insertSql(seconds: number): string {
    return `insert into ${this.name}(envelope_id) select $1 from pg_sleep(${seconds})`;
  }

  /** Rows per envelope id. */
  async counts(): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ envelope_id: string; n: string }>(`select envelope_id, count(*) as n from ${this.name} group by envelope_id`);
    return new Map(rows.map((r) => [r.envelope_id, Number(r.n)]));
  }

  async total(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(`select count(*) as n from ${this.name}`);
    return Number(rows[0]?.n ?? 0);
  }

  async drop(): Promise<void> {
    await this.#pool.query(`drop table if exists ${this.name}`);
  }
}

// ------------------------------------------------------------------ the binary

export interface HostHealth {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The `bus` section of `/health/handlers` for the Kafka bus. */
export interface BusHealth {
  readonly group: string;
  readonly state: string;
  readonly partitions: readonly { partition: number; committed: string | null; lag: number | null }[];
  readonly lag: number;
  readonly paused: boolean;
}

/** One `onex-runtime-host run CONTRACT` child process, with its logs and HTTP health endpoints. */
export class HostProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly label: string;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(label: string, contractFile: string, port: number, env: Record<string, string>) {
    this.label = label;
    this.port = port;
    this.child = spawn(process.execPath, [BIN, 'run', contractFile], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env, ONEX_INGRESS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async #get(route: string): Promise<HostHealth> {
    const res = await fetch(`http://127.0.0.1:${this.port}${route}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** `GET /health/ready`: 200 when running and the bus is ready; the body has `in_flight`. */
  ready(): Promise<HostHealth> {
    return this.#get('/health/ready');
  }

  /** The `bus` section of `GET /health/handlers`. */
  async bus(): Promise<BusHealth> {
    return (await this.#get('/health/handlers')).body.bus as BusHealth;
  }

  /** Resolves once `/health/ready` answers 200; fails early with the logs if the process exits. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => {
      if (!this.running) throw new Error(`${this.label} exited before it was ready:\n${this.logTail()}`);
      const r = await this.ready();
      if (r.status !== 200) throw new Error(`${this.label} not ready: ${JSON.stringify(r.body)}`);
    }, timeoutMs, 100).catch((error: unknown) => {
      throw new Error(`${this.label} did not become ready in ${timeoutMs} ms: ${String(error)}\n${this.logTail()}`);
    });
  }

  /** Parsed JSON log lines (pino writes one per line to stdout). */
  logLines(): Record<string, unknown>[] {
    return this.stdout.split('\n').flatMap((line) => {
      const parsed = line.startsWith('{') ? parseJson(line) : undefined;
      return parsed === undefined ? [] : [parsed];
    });
  }

  logTail(lines = 40): string {
    const tail = (text: string): string => text.split('\n').slice(-lines).join('\n');
    return `--- ${this.label} stdout (tail)\n${tail(this.stdout)}\n--- ${this.label} stderr (tail)\n${tail(this.stderr)}`;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

/** Spawns binaries and makes sure none outlives its test. */
export class HostFleet {
  readonly #hosts: HostProcess[] = [];

  spawn(label: string, contractFile: string, port: number, env: Record<string, string>): HostProcess {
    const host = new HostProcess(label, contractFile, port, env);
    this.#hosts.push(host);
    return host;
  }

  get hosts(): readonly HostProcess[] {
    return this.#hosts;
  }

  /**
   * Stops whatever still runs: SIGTERM first, so hosts leave their consumer group (which
   * can then be deleted), SIGKILL after `graceMs`. Resolves when every process is gone.
   */
  async stopAll(graceMs = 30_000): Promise<void> {
    const hosts = this.#hosts.splice(0);
    for (const h of hosts) h.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const h of hosts) h.kill('SIGKILL');
    }, graceMs);
    await Promise.all(hosts.map((h) => h.exited));
    clearTimeout(timer);
  }
}
