/**
 * The real `onex-runtime-host` binary on the real Kafka broker and PostgreSQL: a round trip,
 * SIGKILL part-way through a backlog (with the in-memory and the PostgreSQL idempotency
 * store), a graceful SIGTERM drain, and two binaries sharing a consumer group. Producers and
 * readers are plain kafkajs clients; side effects are rows the envelopes insert, counted
 * with SQL. Duplicate counts are printed, not asserted, where at-least-once allows them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HostFleet,
  KAFKA_BROKERS,
  KafkaKit,
  PG_URL,
  SideEffectTable,
  freePort,
  kafkaAndPostgresAvailable,
  waitFor,
  wireEnvelope,
  type HostProcess,
  type ReadRecord,
  type TopicSet,
  type WireEnvelope,
} from './helpers/kafka-binary-kit.js';

const available = await kafkaAndPostgresAvailable();

/** run.ts: time allowed after the drain timeout before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;
const NODE_SLUG = 'ledger_effect';

interface ContractOptions {
  readonly poolSize?: number;
  readonly maxInFlight?: number;
  readonly drainTimeoutMs?: number;
  /** Lines under `runtime.idempotency:` (absent: the default in-memory store). */
  readonly idempotency?: readonly string[];
  /** @default at_least_once */
  readonly delivery?: 'exactly_once';
}

const NODE_CONTRACT = [
  'schema_version: "1.0.0"',
  'node_version: "1.0.0"',
  `name: "${NODE_SLUG}"`,
  'node_type: "EFFECT"',
  'description: "Records each envelope id in a side-effect table"',
  'input_model:',
  '  name: "LedgerRequest"',
  'output_model:',
  '  name: "LedgerResponse"',
  'io_operations:',
  '  - type: "db"',
  '    operations: ["db.execute", "db.query"]',
  // It inserts: writes need the read_write grant.
  '    access: "read_write"',
  'dependencies: []',
  '',
].join('\n');

/** The db handler's contract; the binding's ${ONEX_IT_PG_URL} must fall inside its secret scopes. */
const DB_HANDLER_CONTRACT = [
  'handler_name: "handler_db"', 'handler_version: "1.0.0"', 'handler_type: "db"', 'handler_type_category: "effect"',
  'capabilities: []', 'commands_accepted: ["db.query", "db.execute", "db.transaction"]', 'security: { secret_scopes: ["env://ONEX_IT_PG_URL"] }', '',
].join('\n');

function contractText(t: TopicSet, o: ContractOptions): string {
  return [
    'schema_version: "1.0.0"',
    'runtime:',
    '  name: "kafka-binary-it"',
    '  version: "1.0.0"',
    '  event_bus:',
    '    kind: kafka',
    '    config:',
    '      bootstrap_servers: "${KAFKA_BOOTSTRAP_SERVERS}"',
    `      consumer_group: "${t.group}"`,
    '      commit_interval_ms: 100',
    // A SIGKILLed member is evicted after the session timeout; keep it short (the broker's minimum is 6 s).
    '      session_timeout_ms: 10000',
    '      heartbeat_interval_ms: 1000',
    ...(o.delivery === undefined ? [] : [`      delivery: ${o.delivery}`]),
    '      topics:',
    `        input: "${t.input}"`,
    `        output: "${t.output}"`,
    `        dead_letter: "${t.deadLetter}"`,
    '  handlers:',
    '    - type: db',
    '      config:',
    '        url: "${ONEX_IT_PG_URL}"',
    `        pool_size: ${o.poolSize ?? 8}`,
    '  nodes:',
    `    - slug: "${NODE_SLUG}"`,
    `      contract: "${NODE_SLUG}.yaml"`,
    `  max_in_flight: ${o.maxInFlight ?? 16}`,
    `  drain_timeout_ms: ${o.drainTimeoutMs ?? 10_000}`,
    ...(o.idempotency === undefined ? [] : ['  idempotency:', ...o.idempotency.map((l) => `    ${l}`)]),
    '  ingress:',
    '    host: "127.0.0.1"',
    '',
  ].join('\n');
}

/** Envelopes that each insert their own envelope id into `fx` (after `sleepSeconds` of pg_sleep). */
function ledgerEnvelopes(count: number, fx: SideEffectTable, sleepSeconds: number): WireEnvelope[] {
  return Array.from({ length: count }, () => {
    const id = randomUUID();
    return wireEnvelope({ envelope_id: id, target_node: NODE_SLUG, operation: 'db.execute', payload: { sql: fx.insertSql(sleepSeconds), parameters: [id] } });
  });
}

/** Responses per request envelope id (by causation_id), for the ids in `sent`. */
function responsesBySource(out: readonly ReadRecord[], sent: ReadonlySet<string>): Map<string, Record<string, unknown>[]> {
  const by = new Map<string, Record<string, unknown>[]>();
  for (const r of out) {
    const cause = r.body?.causation_id;
    if (typeof cause !== 'string' || !sent.has(cause)) continue;
    const list = by.get(cause);
    if (list) list.push(r.body as Record<string, unknown>);
    else by.set(cause, [r.body as Record<string, unknown>]);
  }
  return by;
}

function answeredCount(out: readonly ReadRecord[], sent: ReadonlySet<string>): number {
  return responsesBySource(out, sent).size;
}

/** Extra copies: (responses or rows) beyond one per envelope, and how many envelopes had any. */
function duplicates(counts: Iterable<number>): { extra: number; envelopes: number } {
  let extra = 0;
  let envelopes = 0;
  for (const n of counts) {
    if (n > 1) {
      extra += n - 1;
      envelopes += 1;
    }
  }
  return { extra, envelopes };
}

const errorCode = (body: Record<string, unknown>): string | undefined => (body.error as { code?: string } | undefined)?.code;

describe.skipIf(!available)('onex-runtime-host binary on a real Kafka broker and PostgreSQL', { timeout: 300_000 }, () => {
  let dir: string;
  let pool: pg.Pool;
  let kit: KafkaKit;
  const fleet = new HostFleet();
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'onex-kafka-bin-'));
    pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    await writeFile(path.join(dir, `${NODE_SLUG}.yaml`), NODE_CONTRACT);
    await mkdir(path.join(dir, 'handlers', 'db'), { recursive: true });
    await writeFile(path.join(dir, 'handlers', 'db', 'handler_contract.yaml'), DB_HANDLER_CONTRACT);
  });

  afterAll(async () => {
    await pool?.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') for (const h of fleet.hosts) console.error(h.logTail());
    await fleet.stopAll();
    await kit?.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
  });

  /** Topics, a side-effect table and a contract file for one test; all removed after it. */
  async function setUp(label: string, partitions: number, options: ContractOptions = {}): Promise<{ t: TopicSet; fx: SideEffectTable; contract: string }> {
    kit = new KafkaKit();
    const t = await kit.topics(partitions, label);
    const fx = await new SideEffectTable(pool).create();
    cleanups.push(() => fx.drop());
    if (options.idempotency !== undefined) {
      // The PostgreSQL store's namespace is the consumer group.
      cleanups.push(async () => {
        const { rows } = await pool.query<{ t: string | null }>("select to_regclass('onex_idempotency')::text as t");
        if (rows[0]?.t != null) await pool.query('delete from onex_idempotency where namespace = $1', [t.group]);
      });
    }
    const contract = path.join(dir, `${label}-${t.group}.yaml`);
    await writeFile(contract, contractText(t, options));
    return { t, fx, contract };
  }

  async function startHost(label: string, contract: string): Promise<HostProcess> {
    const host = fleet.spawn(label, contract, await freePort(), { KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS, ONEX_IT_PG_URL: PG_URL });
    await host.waitReady();
    return host;
  }

  /**
   * SIGKILLs `host` once `due()` holds and the host has envelopes in its slots, so the kill
   * cuts off work in progress (between two fetches a host can briefly hold none).
   */
  async function killMidFlight(host: HostProcess, due: () => boolean): Promise<void> {
    await waitFor(async () => {
      expect(due()).toBe(true);
      expect((await host.ready()).body.in_flight).toBeGreaterThan(0);
      host.kill('SIGKILL');
    }, 120_000, 20);
    expect((await host.exited).signal).toBe('SIGKILL');
  }

  it('round trip: responses on the output topic are correlated, caused by the request, with headers matching the body', async () => {
    const { t, fx, contract } = await setUp('rt', 2);
    await startHost('host', contract);
    const out = await kit.reader(t.output);
    const sent = ledgerEnvelopes(20, fx, 0.005);
    await kit.produce(t.input, sent);

    await waitFor(() => expect(out).toHaveLength(20));
    for (const e of sent) {
      const record = out.find((r) => r.body?.causation_id === e.id);
      expect(record, `response to ${e.id}`).toBeDefined();
      const r = record as ReadRecord;
      expect(r.body).toMatchObject({ correlation_id: e.correlation, causation_id: e.id, is_response: true, success: true, payload: { row_count: 1 } });
      expect(r.body?.envelope_id).not.toBe(e.id);
      expect(r.key).toBe(e.correlation);
      expect(r.headers).toEqual({ correlation_id: r.body?.correlation_id, envelope_id: r.body?.envelope_id, 'content-type': 'application/json' });
    }
    const rows = await fx.counts();
    expect([...rows.keys()].sort()).toEqual(sent.map((e) => e.id).sort());
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
  });

  /**
   * 5,000 envelopes on 4 partitions; the binary is SIGKILLed once about a third are
   * answered and started again with the same contract (same group).
   */
  async function crashAndRestart(label: string, options: ContractOptions) {
    const total = 5_000;
    const { t, fx, contract } = await setUp(label, 4, options);
    const first = await startHost('first', contract);
    const out = await kit.reader(t.output);
    const dlq = await kit.reader(t.deadLetter);
    const sent = ledgerEnvelopes(total, fx, 0.005);
    const ids = new Set(sent.map((e) => e.id));
    await kit.produce(t.input, sent);

    await killMidFlight(first, () => answeredCount(out, ids) >= Math.ceil(total / 3));
    const answeredAtKill = answeredCount(out, ids);

    await startHost('restarted', contract);
    await waitFor(() => expect(answeredCount(out, ids)).toBe(total), 180_000, 250);
    // Everything answered is committed: nothing is left to be delivered again.
    const high = await kit.highWatermarks(t.input);
    await waitFor(async () => expect(await kit.committed(t.group, t.input)).toEqual(high), 30_000, 200);

    const responses = responsesBySource(out, ids);
    const rows = await fx.counts();
    return { sent, responses, rows, dlq, answeredAtKill, dupResponses: duplicates([...responses.values()].map((r) => r.length)), dupEffects: duplicates(rows.values()) };
  }

  it('no loss under SIGKILL, in-memory idempotency store: every envelope gets a success response', async () => {
    const r = await crashAndRestart('crashmem', {});
    console.log(
      `[kafka-binary] SIGKILL + restart, in-memory idempotency: ${r.sent.length} envelopes, killed after ${r.answeredAtKill} answered; ` +
        `duplicate responses: ${r.dupResponses.extra} (${r.dupResponses.envelopes} envelopes answered more than once); ` +
        `duplicate side effects: ${r.dupEffects.extra} (${r.dupEffects.envelopes} envelopes executed more than once)`,
    );
    for (const e of r.sent) {
      expect(r.responses.get(e.id)?.some((b) => b.success === true), `success response to ${e.id}`).toBe(true);
      expect(r.rows.get(e.id) ?? 0, `side effect of ${e.id}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('no loss under SIGKILL, PostgreSQL idempotency store with on_interrupted: dead_letter: no side effect runs twice', async () => {
    const idempotency = ['store: postgres', 'url: { secret_ref: "env://ONEX_IT_PG_URL" }', 'lease_ms: 3000', 'on_interrupted: dead_letter'];
    const r = await crashAndRestart('crashpg', { idempotency });

    const interrupted = r.sent.filter((e) => r.responses.get(e.id)?.some((b) => errorCode(b) === 'EXECUTION_INTERRUPTED'));
    console.log(
      `[kafka-binary] SIGKILL + restart, postgres idempotency (on_interrupted: dead_letter): ${r.sent.length} envelopes, killed after ${r.answeredAtKill} answered; ` +
        `EXECUTION_INTERRUPTED: ${interrupted.length}; duplicate responses: ${r.dupResponses.extra} (${r.dupResponses.envelopes} envelopes answered more than once); ` +
        `duplicate side effects: ${r.dupEffects.extra}`,
    );
    // At most once: no envelope id was inserted twice.
    expect([...r.rows].filter(([, n]) => n > 1)).toEqual([]);
    for (const e of r.sent) {
      const answers = r.responses.get(e.id) ?? [];
      expect(answers.length, `response to ${e.id}`).toBeGreaterThanOrEqual(1);
      for (const b of answers) expect(b.success === true || errorCode(b) === 'EXECUTION_INTERRUPTED', `answer to ${e.id}: ${JSON.stringify(b.error)}`).toBe(true);
      // A success is only ever published after the effect ran (once); an interrupted envelope is never re-executed.
      if (answers.some((b) => b.success === true)) {
        expect(r.rows.get(e.id), `side effect of ${e.id}`).toBe(1);
        expect(answers.some((b) => errorCode(b) === 'EXECUTION_INTERRUPTED'), `${e.id} answered both success and EXECUTION_INTERRUPTED`).toBe(false);
      }
    }
    // Each interrupted envelope is also on the dead-letter topic, with its original bytes.
    const interruptedIds = new Set(interrupted.map((e) => e.id));
    await waitFor(() => {
      const dead = new Set(
        r.dlq.filter((d) => (d.body?.error as { code?: string } | undefined)?.code === 'EXECUTION_INTERRUPTED').map((d) => (JSON.parse(String(d.body?.raw_value)) as { envelope_id: string }).envelope_id),
      );
      expect(dead).toEqual(interruptedIds);
    }, 10_000);
  });

  it('no loss under SIGKILL with delivery: exactly_once: a read_committed reader sees exactly one response per envelope', async () => {
    // The kit's readers are read_committed (kafkajs's default): aborted transactions stay invisible.
    const r = await crashAndRestart('crasheos', { delivery: 'exactly_once' });
    console.log(
      `[kafka-binary] SIGKILL + restart, exactly_once: ${r.sent.length} envelopes, killed after ${r.answeredAtKill} answered; ` +
        `committed responses: ${[...r.responses.values()].reduce((n, list) => n + list.length, 0)}; duplicate responses: ${r.dupResponses.extra}; ` +
        `duplicate side effects (at least once, not covered by transactions): ${r.dupEffects.extra}`,
    );
    expect(r.dupResponses.extra).toBe(0);
    for (const e of r.sent) expect(r.responses.get(e.id)?.length, `responses to ${e.id}`).toBe(1);
  });

  it('graceful drain on SIGTERM: all 50 in-flight envelopes are answered and committed, exit 0 within the drain timeout', async () => {
    const drainTimeoutMs = 20_000;
    // 25 connections for 50 two-second statements: the drain has to wait for two rounds.
    const { t, fx, contract } = await setUp('drain', 2, { maxInFlight: 64, drainTimeoutMs, poolSize: 25 });
    const host = await startHost('host', contract);
    const out = await kit.reader(t.output);
    const sent = ledgerEnvelopes(50, fx, 2);
    await kit.produce(t.input, sent);

    await waitFor(async () => expect((await host.ready()).body.in_flight).toBe(50), 30_000);
    const signalledAt = Date.now();
    host.kill('SIGTERM');
    const exit = await host.exited;
    const exitedAfterMs = Date.now() - signalledAt;
    console.log(`[kafka-binary] drain: 50 in flight at SIGTERM; exited with ${exit.code} after ${exitedAfterMs} ms (drain_timeout_ms ${drainTimeoutMs})`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(drainTimeoutMs + SHUTDOWN_GRACE_MS);

    await waitFor(() => expect(out).toHaveLength(50));
    expect(out.every((r) => r.body?.success === true)).toBe(true);
    expect(new Set(out.map((r) => r.body?.causation_id))).toEqual(new Set(sent.map((e) => e.id)));
    expect(await kit.committed(t.group, t.input)).toEqual(await kit.highWatermarks(t.input));
    expect(await fx.total()).toBe(50);

    const logs = host.logLines();
    expect(logs.find((l) => l.msg === 'drain complete')).toMatchObject({ in_flight_at_drain: 50, drained: 50, abandoned: 0 });
    expect(logs.find((l) => l.msg === 'kafka bus stopped')).toMatchObject({ abandoned: 0 });
  });

  it('scale-out: two binaries share 6 partitions; when one is SIGKILLed the other takes all of them and answers everything', async () => {
    const total = 3_000;
    const { t, fx, contract } = await setUp('scale', 6);
    const a = await startHost('host-a', contract);
    const b = await startHost('host-b', contract);
    const assigned = async (h: HostProcess): Promise<number[]> => (await h.bus()).partitions.map((p) => p.partition);
    await waitFor(async () => {
      const [pa, pb] = await Promise.all([assigned(a), assigned(b)]);
      expect(pa.length).toBeGreaterThan(0);
      expect(pb.length).toBeGreaterThan(0);
      expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    }, 60_000, 200);

    const out = await kit.reader(t.output);
    const sent = ledgerEnvelopes(total, fx, 0.005);
    const ids = new Set(sent.map((e) => e.id));
    await kit.produce(t.input, sent);
    await killMidFlight(b, () => answeredCount(out, ids) >= Math.ceil(total / 3));
    const answeredAtKill = answeredCount(out, ids);

    await waitFor(async () => expect(await assigned(a)).toEqual([0, 1, 2, 3, 4, 5]), 60_000, 200);
    await waitFor(() => expect(answeredCount(out, ids)).toBe(total), 180_000, 250);

    const responses = responsesBySource(out, ids);
    const rows = await fx.counts();
    const dupResponses = duplicates([...responses.values()].map((r) => r.length));
    const dupEffects = duplicates(rows.values());
    console.log(
      `[kafka-binary] scale-out, one of two SIGKILLed: ${total} envelopes on 6 partitions, killed after ${answeredAtKill} answered; ` +
        `duplicate responses: ${dupResponses.extra} (${dupResponses.envelopes} envelopes); duplicate side effects: ${dupEffects.extra} (${dupEffects.envelopes} envelopes)`,
    );
    for (const e of sent) {
      expect(responses.get(e.id)?.some((body) => body.success === true), `success response to ${e.id}`).toBe(true);
      expect(rows.get(e.id) ?? 0, `side effect of ${e.id}`).toBeGreaterThanOrEqual(1);
    }
  });
});
