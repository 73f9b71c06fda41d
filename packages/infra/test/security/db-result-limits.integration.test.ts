/**
 * Attack: a statement whose result would exhaust the host's memory. Rows and bytes are
 * counted as they arrive; past maxRows / maxResultBytes the statement is cancelled on the
 * server and its connection destroyed, so the rest is never buffered.
 */
import { randomUUID } from 'node:crypto';
import { InfraResponseTooLargeError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DB_MAX_RESULT_BYTES, type DbHandler, type DbQueryResponse } from '../../src/handlers/db/index.js';
import { pgServerAvailable } from '../helpers/require-server.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { eventually, handlerFor, ROLES, runningQueries, sendAs } from './db-security-kit.js';

const available = await pgServerAvailable();
const MiB = 1024 * 1024;

describe.skipIf(!available).each(ROLES)('db attacks as $name: huge results', (role) => {
  let handler: DbHandler;
  let small: DbHandler;
  const appName = `onex-limits-${role.name}-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    handler = await handlerFor(role, { poolSize: 1, applicationName: appName });
    small = await handlerFor(role, { maxRows: 5, maxResultBytes: 4096 });
  });
  afterAll(async () => {
    await handler.shutdown();
    await small.shutdown();
  });

  it('a 600 MB result fails with INFRA_RESPONSE_TOO_LARGE while the process stays far below 600 MB', async () => {
    let peak = process.memoryUsage().rss;
    const baseline = peak;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const error = await rejection(sendAs(handler, 'db.query', { sql: "select repeat('x', 1000000) as big from generate_series(1, 600)" }));
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(error).toBeInstanceOf(InfraResponseTooLargeError);
      expect(error.code).toBe('INFRA_RESPONSE_TOO_LARGE');
      expect(error.details).toMatchObject({ max_result_bytes: DEFAULT_DB_MAX_RESULT_BYTES });
      expect(Number(error.details.bytes_received)).toBeGreaterThan(DEFAULT_DB_MAX_RESULT_BYTES);
      expect(Number(error.details.bytes_received)).toBeLessThan(DEFAULT_DB_MAX_RESULT_BYTES + 2 * MiB);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline).toBeLessThan(200 * MiB);
    // Cancelled on the server, not left streaming into a closed socket.
    await eventually('the huge query stops on the server', async () => (await runningQueries(appName, 'generate_series(1, 600)')) === 0);
  });

  it('the handler goes on with a fresh connection afterwards', async () => {
    const answer = (await sendAs(handler, 'db.query', { sql: 'select 1 as ok' })) as DbQueryResponse;
    expect(answer.rows).toEqual([{ ok: 1 }]);
  });

  it('maxRows stops at the first row past the limit', async () => {
    const error = await rejection(sendAs(small, 'db.query', { sql: 'select g from generate_series(1, 100000) g' }));
    expect(error).toBeInstanceOf(InfraResponseTooLargeError);
    expect(error.details).toMatchObject({ max_rows: 5, rows_received: 6 });
    expect(error.hint).toContain('maxRows');
    const ok = (await sendAs(small, 'db.query', { sql: 'select g from generate_series(1, 5) g' })) as DbQueryResponse;
    expect(ok.row_count).toBe(5);
  });

  it('maxResultBytes applies inside db.transaction too, and the transaction is rolled back', async () => {
    const error = await rejection(
      sendAs(small, 'db.transaction', { statements: [{ sql: "select repeat('y', 10000) as wide" }] }),
    );
    expect(error).toBeInstanceOf(InfraResponseTooLargeError);
    expect(error.details).toMatchObject({ max_result_bytes: 4096 });
  });
});
