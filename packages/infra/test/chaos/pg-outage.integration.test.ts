/**
 * Chaos (spec 4.10): PostgreSQL gone for 5 s under a steady stream of db envelopes. The
 * shared cluster on 5432 serves every other test file in parallel, so this file stops its
 * own throw-away cluster (tooling/services/postgres-private.sh, `15/onex_chaos_outage` on
 * 127.0.0.1:55432, trust auth), created in beforeAll and dropped in afterAll.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI, pgServerAvailable } from '../helpers/require-server.js';
import { eventually, send, service, startChaosHost, type ChaosHost, type WireAnswer } from './chaos-kit.js';

const PRIVATE = { ONEX_PG_PRIVATE_PORT: '55432', ONEX_PG_PRIVATE_NAME: 'onex_chaos_outage' };
const PG_URL = `postgres://postgres@127.0.0.1:${PRIVATE.ONEX_PG_PRIVATE_PORT}/onex_test?application_name=onex_chaos_outage`;
const OUTAGE_MS = 5000;
const RESET_MS = 1000;

/** The private cluster needs the server package and root: both come with the shared one's setup. */
async function privateClusterAvailable(): Promise<boolean> {
  if (!(await pgServerAvailable())) return false;
  try {
      await service('postgres-private.sh', ['up'], PRIVATE);
      return true;
  } catch (error) {
      const reason = `could not start the private PostgreSQL cluster (bash tooling/services/postgres-private.sh up needs root and the server package): ${String(error)}`;
      if (IN_CI) throw new Error(`[integration] ${reason} (CI=true: integration tests must not skip)`, { cause: error });
      console.warn(`\n[integration] SKIPPING the PostgreSQL outage test: ${reason}\n`);
      return false;
  }
}

const available = await privateClusterAvailable();

describe.skipIf(!available)('PostgreSQL stopped for 5 s under load', () => {
  let chaos: ChaosHost;
  const table = `outage_${process.pid}`;

  beforeAll(async () => {
      chaos = await startChaosHost(
      [
        '    - type: "db"',
        '      config:',
        '        url: "${ONEX_CHAOS_PG_URL}"',
        '        pool_size: 4',
        '        timeout_ms: 2000',
        '        retry_policy: { max_retries: 1, backoff_strategy: "fixed", base_delay_ms: 20, max_delay_ms: 20 }',
        `        circuit_breaker: { threshold: 3, reset_timeout_ms: ${RESET_MS}, half_open_successes: 1 }`,
      ],
      { ONEX_CHAOS_PG_URL: PG_URL },
      );
      const created = await send(chaos.url, 'db.execute', { sql: `create table ${table} (n int primary key)` });
      expect(created.success).toBe(true);
  });
  afterAll(async () => {
      await chaos?.close();
      await service('postgres-private.sh', ['down'], PRIVATE);
  });

  const status = async (path: string): Promise<number> => (await fetch(`${chaos.url}${path}`)).status;

  it('keeps running, opens the breaker, reports not ready, and every envelope after recovery succeeds', async () => {
    // A steady stream: two senders, each inserting its next number as soon as the last answered.
    let next = 0;
    let streaming = true;
    let recovered = false;
    const answers: { n: number; afterRecovery: boolean; answer: WireAnswer }[] = [];
    const sender = async () => {
      while (streaming) {
        const n = (next += 1);
        const afterRecovery = recovered;
        const answer = await send(chaos.url, 'db.execute', { sql: `insert into ${table} (n) values ($1)`, parameters: [n] });
        answers.push({ n, afterRecovery, answer });
        // A failing-fast envelope answers at once; a short pause keeps the stream steady, not a spin.
        await sleep(10);
      }
    };
    const senders = [sender(), sender()];
    try {
      await eventually('envelopes succeed before the outage', async () => answers.filter((a) => a.answer.success).length >= 10);

      await service('postgres-private.sh', ['stop'], PRIVATE);
      const stoppedAt = Date.now();
      await eventually('the db breaker opens', async () => chaos.host.circuitStates().db === 'open');
      // Not ready because of the required db handler: its open breaker (or, had a periodic
      // health check run meanwhile, that check); /health/handlers shows the breaker open.
      await eventually('/health/ready reports not ready because of db', async () => {
        const res = await fetch(`${chaos.url}/health/ready`);
        const body = (await res.json()) as { status?: string; not_ready_reason?: string };
        return res.status === 503 && body.status === 'not_ready' && /"db"/.test(body.not_ready_reason ?? '');
      });
      await eventually('/health/handlers shows the db circuit open', async () => {
        const body = (await (await fetch(`${chaos.url}/health/handlers`)).json()) as { handlers?: { handler_type: string; circuit: string | null }[] };
        return body.handlers?.some((h) => h.handler_type === 'db' && h.circuit === 'open') === true;
      });
      expect(await status('/health/live')).toBe(200);
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
      await service('postgres-private.sh', ['start'], PRIVATE);

      await eventually('the db breaker closes again', async () => chaos.host.circuitStates().db === 'closed', 2000);
      await eventually('/health/ready reports ready again', async () => (await status('/health/ready')) === 200);
      recovered = true;
      await eventually('envelopes flow after recovery', async () => answers.filter((a) => a.afterRecovery).length >= 20, 2000);
    } finally {
      streaming = false;
      await Promise.all(senders);
    }

    const during = answers.filter((a) => !a.afterRecovery && !a.answer.success);
    expect(during.length).toBeGreaterThan(0);
    // During the outage: transport errors, or the open breaker failing fast.
    for (const { answer } of during) expect(['INFRA_CONNECTION_ERROR', 'INFRA_TIMEOUT', 'INFRA_UNAVAILABLE']).toContain(answer.error?.code);
    expect(during.some((a) => a.answer.error?.code === 'INFRA_UNAVAILABLE' && a.answer.error.retry_after_seconds !== undefined)).toBe(true);
    const after = answers.filter((a) => a.afterRecovery);
    expect(after.filter((a) => !a.answer.success).map((a) => a.answer.error)).toEqual([]);

    // Every insert answered with success is in the table.
    const rows = await send(chaos.url, 'db.query', { sql: `select n from ${table} order by n` });
    const stored = new Set(((rows.payload?.rows ?? []) as { n: number }[]).map((r) => r.n));
    for (const a of answers.filter((x) => x.answer.success)) expect(stored.has(a.n), `row ${a.n}`).toBe(true);
    expect(chaos.host.circuitStates()).toMatchObject({ db: 'closed' });
  }, 120_000);
});
