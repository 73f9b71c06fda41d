/**
 * Chaos: an envelope whose deadline has passed is never executed. Sent through the real
 * ingress to a real db handler (PGlite) as an insert: it is answered EXPIRED with
 * `may_have_run: false`, and the row is not there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, metricValue, send, startChaosHost, type ChaosHost } from './chaos-kit.js';

describe('an expired envelope through the ingress', () => {
  let chaos: ChaosHost;

  beforeAll(async () => {
    chaos = await startChaosHost(['    - type: "db"', '      config:', '        url: "pglite://memory"', '        timeout_ms: 5000', '        retry_policy: { max_retries: 2 }']);
    expect((await send(chaos.url, 'db.execute', { sql: 'create table expired (label text)' })).success).toBe(true);
  }, 60_000); // PGlite takes a while to start on a busy machine.
  afterAll(() => chaos?.close());

  const tenSecondsAgo = () => new Date(Date.now() - 10_000).toISOString();
  const cases: readonly { name: string; extra: () => Record<string, unknown> }[] = [
    { name: 'ttl_seconds elapsed since its timestamp', extra: () => ({ timestamp: tenSecondsAgo(), ttl_seconds: 1 }) },
    { name: 'metadata.deadline in the past', extra: () => ({ metadata: { deadline: tenSecondsAgo() } }) },
  ];

  for (const { name, extra } of cases) {
    it(`answers EXPIRED and does not insert (${name})`, async () => {
      const answer = await send(chaos.url, 'db.execute', { sql: 'insert into expired values ($1)', parameters: [name] }, extra());
      expect(answer.success).toBe(false);
      expect(answer.error).toMatchObject({ code: 'EXPIRED', may_have_run: false });
      const rows = await send(chaos.url, 'db.query', { sql: 'select count(*)::int as n from expired where label = $1', parameters: [name] });
      expect(rows.payload).toMatchObject({ rows: [{ n: 0 }] });
    });
  }

  it('still inserts the same envelope when its deadline is ahead', async () => {
    const answer = await send(chaos.url, 'db.execute', { sql: 'insert into expired values ($1)', parameters: ['live'] }, { ttl_seconds: 60 });
    expect(answer.success).toBe(true);
    const rows = await send(chaos.url, 'db.query', { sql: 'select count(*)::int as n from expired' });
    expect(rows.payload).toMatchObject({ rows: [{ n: 1 }] });
    const families = await scrape(chaos.url);
    // Refused before any attempt: counted as a deadline refusal, never retried.
    expect(metricValue(families, 'onex_handler_timeouts_total', { handler_type: 'db', reason: 'deadline' })).toBe(2);
    expect(metricValue(families, 'onex_retries_total', { handler_type: 'db', operation: 'db.execute' }) ?? 0).toBe(0);
  });
});
