/**
 * Chaos: a statement cut off by the policy stack is really gone from the server, not only
 * abandoned by the host. security/db-cancellation.integration.test.ts proves the db
 * handler cancels on an aborted signal handed to it directly; this goes through a host
 * built from a contract, where the signal comes from the policy stack: the binding's
 * `timeout_ms`, and the envelope's deadline (which only the policy stack enforces: the
 * server's statement_timeout is the binding's much longer `timeout_ms`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, pgServerAvailable } from '../helpers/require-server.js';
import { runningQueries } from '../security/db-security-kit.js';
import { eventually, send, startChaosHost, type ChaosHost } from './chaos-kit.js';

const available = await pgServerAvailable();
const APP = `onex_chaos_cancel_${process.pid}`;

function hostFor(timeoutMs: number): Promise<ChaosHost> {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', APP);
  return startChaosHost(
    ['    - type: "db"', '      config:', '        url: "${ONEX_CHAOS_PG_URL}"', '        pool_size: 2', `        timeout_ms: ${timeoutMs}`],
    { ONEX_CHAOS_PG_URL: url.toString() },
  );
}

describe.skipIf(!available)('a statement cancelled by the policy stack is gone from pg_stat_activity', () => {
  describe('by the binding timeout_ms', () => {
    let chaos: ChaosHost;
    beforeAll(async () => {
      chaos = await hostFor(500);
    });
    afterAll(() => chaos?.close());

    it('answers INFRA_TIMEOUT and the pg_sleep(30) no longer runs on the server', async () => {
      const marker = `/* policy-timeout-${process.pid} */`;
      const answer = await send(chaos.url, 'db.query', { sql: `select pg_sleep(30) ${marker}` });
      expect(answer.success).toBe(false);
      expect(answer.error?.code).toBe('INFRA_TIMEOUT');
      await eventually('pg_sleep is gone from pg_stat_activity', async () => (await runningQueries(APP, marker)) === 0);
      // The pool is usable afterwards: the cancelled backend was not left mid-statement.
      expect((await send(chaos.url, 'db.query', { sql: 'select 1 as one' })).payload).toMatchObject({ rows: [{ one: 1 }] });
    });
  });

  describe('by the envelope deadline', () => {
    let chaos: ChaosHost;
    beforeAll(async () => {
      chaos = await hostFor(20_000);
    });
    afterAll(() => chaos?.close());

    // A few seconds of budget: long enough to see the statement running first on a busy machine.
    const cases: readonly { name: string; extra: () => Record<string, unknown> }[] = [
      { name: 'ttl_seconds', extra: () => ({ ttl_seconds: 3 }) },
      { name: 'metadata.deadline', extra: () => ({ metadata: { deadline: new Date(Date.now() + 3000).toISOString() } }) },
    ];
    for (const { name, extra } of cases) {
      it(`answers EXPIRED (may have run) when ${name} passes mid-call, and the statement is cancelled on the server`, async () => {
        const marker = `/* deadline-${name}-${process.pid} */`;
        const pending = send(chaos.url, 'db.query', { sql: `select pg_sleep(30) ${marker}` }, extra());
        await eventually('pg_sleep is running', async () => (await runningQueries(APP, marker)) === 1);
        const answer = await pending;
        expect(answer.success).toBe(false);
        expect(answer.error).toMatchObject({ code: 'EXPIRED', may_have_run: true });
        await eventually('pg_sleep is gone from pg_stat_activity', async () => (await runningQueries(APP, marker)) === 0);
      }, 30_000);
    }
  });
});
