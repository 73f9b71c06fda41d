/**
 * Measure 4: what the db and http handlers add on top of the driver they wrap.
 * `handler.execute(envelope, context)` against the raw driver call doing the same
 * work (pg Pool query; undici request + reading the JSON body), same pool sizes.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createInvocationContext, createRequestEnvelope } from '@onex/core';
import { DbHandler } from '@onex/infra/handlers/db';
import { HttpHandler } from '@onex/infra/handlers/http';
import pg from 'pg';
import { Agent, request } from 'undici';
import { measureAll } from '../lib/drive.mjs';
import { latency, ops, percent, verdict } from '../lib/table.mjs';

const TARGET = 0.1;
const POOL_SIZE = 8;
const HTTP_CONNECTIONS = 10;
export const PG_URL = process.env.ONEX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/onex_test';

/** `host:port/db` of a PostgreSQL URL, without credentials. */
export function pgTarget(url = PG_URL) {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable ONEX_PG_URL)';
  }
}

/**
 * One judged measure-4 row (also used by the vault and consul measures).
 * @param {string} measure @param {string} subject @param {string} baseline @param {number} conc
 * @param {import('../lib/drive.mjs').RunResult} h @param {import('../lib/drive.mjs').RunResult} raw
 * @returns {import('../lib/table.mjs').Row}
 */
export function overheadRow(measure, subject, baseline, conc, h, raw) {
  // Overhead in time per call: (handler time / raw time) − 1, with time = 1 / throughput.
  const overhead = raw.opsPerSec / h.opsPerSec - 1;
  return {
    measure,
    conc: String(conc),
    subject,
    subjectValue: ops(h.opsPerSec),
    subjectLatency: latency(h),
    baseline,
    baselineValue: ops(raw.opsPerSec),
    baselineLatency: latency(raw),
    ratio: percent(overhead),
    target: '≤ +10 %',
    verdict: verdict(overhead <= TARGET),
  };
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
async function dbMeasures(options) {
  const skipped = (/** @type {string} */ why) => [
    { measure: '4 db handler overhead', conc: '1, 8', subject: 'DbHandler db.query', subjectValue: '–', subjectLatency: '–', baseline: 'raw pg Pool', baselineValue: '–', baselineLatency: '–', ratio: '–', target: '≤ +10 %', verdict: `skipped: PostgreSQL not reachable on ${pgTarget()} (${why})` },
  ];
  const raw = new pg.Pool({ connectionString: PG_URL, max: POOL_SIZE, connectionTimeoutMillis: 3_000 });
  raw.on('error', () => undefined);
  try {
    await raw.query('select 1');
  } catch (error) {
    await raw.end().catch(() => undefined);
    return skipped(/** @type {{ code?: string }} */ (error).code ?? 'connection failed');
  }
  const handler = new DbHandler();
  try {
    await handler.initialize({ url: PG_URL, poolSize: POOL_SIZE });
    const sql = 'select $1::int as n';
    // One parsed envelope reused, like measure 3: the handler's cost, not the envelope factory's.
    const envelope = createRequestEnvelope({ operation: 'db.query', correlationId: randomUUID(), payload: { sql, parameters: [1] } });
    const probe = /** @type {{ rows: { n: number }[] }} */ (await handler.execute(envelope, createInvocationContext(envelope)));
    if (probe.rows[0]?.n !== 1) throw new Error(`unexpected db.query result ${JSON.stringify(probe)}`);
    /** @type {import('../lib/table.mjs').Row[]} */
    const rows = [];
    for (const concurrency of [1, 8]) {
      const calls = {
        handler: () => handler.execute(envelope, createInvocationContext(envelope)),
        raw: () => raw.query(sql, [1]),
      };
      let r;
      try {
        r = await measureAll(calls, { concurrency, ...options });
      } catch (error) {
        // The PostgreSQL server is shared: another process may terminate our sessions
        // (SQLSTATE 57P01). Both pools open fresh connections; measure once more.
        process.stderr.write(`(db run interrupted: ${error instanceof Error ? error.message : String(error)}; retrying) `);
        r = await measureAll(calls, { concurrency, ...options });
      }
      rows.push(overheadRow('4 db handler overhead', `DbHandler db.query (pool ${POOL_SIZE})`, `raw pg Pool.query (pool ${POOL_SIZE})`, concurrency, r.handler, r.raw));
    }
    return rows;
  } finally {
    await handler.shutdown();
    await raw.end();
  }
}

/** Starts the HTTP server child; resolves to its base URL and a stop function. */
async function startServerChild() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../children/http-server.mjs', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
  const [first] = /** @type {[string]} */ (await once(lines, 'line'));
  const { port } = JSON.parse(first);
  return {
    url: `http://127.0.0.1:${port}/echo`,
    stop: async () => {
      child.stdin?.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
async function httpMeasures(options) {
  const server = await startServerChild();
  const handler = new HttpHandler();
  const agent = new Agent({ connections: HTTP_CONNECTIONS });
  try {
    // The server is on loopback, which the handler refuses unless it is allow-listed.
    await handler.initialize({ connections: HTTP_CONNECTIONS, allowedDomains: ['127.0.0.1'] });
    const envelope = createRequestEnvelope({ operation: 'http.get', correlationId: randomUUID(), payload: { url: server.url } });
    const probe = /** @type {{ status_code: number, body: unknown }} */ (await handler.execute(envelope, createInvocationContext(envelope)));
    if (probe.status_code !== 200) throw new Error(`unexpected http.get result ${JSON.stringify(probe)}`);
    /** @type {import('../lib/table.mjs').Row[]} */
    const rows = [];
    for (const concurrency of [1, 8]) {
      const r = await measureAll(
        {
          handler: () => handler.execute(envelope, createInvocationContext(envelope)),
          raw: async () => {
            const res = await request(server.url, { dispatcher: agent });
            return res.body.json();
          },
        },
        { concurrency, ...options },
      );
      rows.push(overheadRow('4 http handler overhead', 'HttpHandler http.get', 'raw undici request + body.json()', concurrency, r.handler, r.raw));
    }
    return rows;
  } finally {
    await handler.shutdown();
    await agent.close();
    await server.stop();
  }
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options */
export async function handlerMeasures(options) {
  return [...(await dbMeasures(options)), ...(await httpMeasures(options))];
}
