/**
 * Chaos: a slow HTTP dependency must not starve db envelopes. The http binding's bulkhead
 * (`max_concurrent` 2, `max_queue` 1) holds at most 3 of the host's 4 `max_in_flight`
 * slots; without it a burst of 6 hanging http envelopes would hold all 4 and every db
 * envelope would wait behind them. The dependency is a real local server that holds each
 * request until the test releases it (no timing involved); db is a real PGlite.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, send, startChaosHost, type ChaosHost, type WireAnswer } from './chaos-kit.js';

/** Answers nothing until `release()`; counts the requests it holds. */
class HangingServer {
  readonly #held: http.ServerResponse[] = [];
  readonly #server = http.createServer((_req, res) => {
    this.#held.push(res);
  });
  url = '';
  get held(): number {
    return this.#held.length;
  }
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/slow`;
  }
  release(): void {
    for (const res of this.#held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"slow":true}');
    }
  }
  close(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('a slow HTTP dependency behind a bulkhead', () => {
  const dependency = new HangingServer();
  let chaos: ChaosHost;

  beforeAll(async () => {
    await dependency.start();
    chaos = await startChaosHost(
      [
        '    - type: "http"',
        '      config:',
        '        allowed_domains: ["127.0.0.1"]',
        '        timeout_ms: 30000',
        '        bulkhead: { max_concurrent: 2, max_queue: 1 }',
        '    - type: "db"',
        '      config:',
        '        url: "pglite://memory"',
      ],
      {},
      ['  max_in_flight: 4'],
    );
  }, 60_000); // PGlite takes a while to start on a busy machine.
  afterAll(async () => {
    await chaos?.close();
    await dependency.close();
  });

  it('refuses the http envelopes beyond the bulkhead at once, and db envelopes complete while the rest hang', async () => {
    let httpDone = 0;
    const burst = Array.from({ length: 6 }, () =>
      send(chaos.url, 'http.get', { url: dependency.url }).then((answer) => {
        httpDone += 1;
        return answer;
      }),
    );
    // Two calls reach the server, one waits in the bulkhead queue, three are refused unexecuted.
    await eventually('two http calls hang on the server', async () => dependency.held === 2);
    await eventually('three http envelopes are refused', async () => httpDone === 3);

    const db: WireAnswer[] = [];
    db.push(await send(chaos.url, 'db.execute', { sql: 'create table if not exists t (n int)' }));
    for (let n = 0; n < 10; n += 1) db.push(await send(chaos.url, 'db.execute', { sql: 'insert into t values ($1)', parameters: [n] }));
    db.push(await send(chaos.url, 'db.query', { sql: 'select count(*)::int as n from t' }));
    expect(db.map((a) => a.success)).toEqual(db.map(() => true));
    expect(db.at(-1)?.payload).toMatchObject({ rows: [{ n: 10 }] });
    // ...while the admitted http envelopes are still waiting on the slow dependency.
    expect(httpDone).toBe(3);
    expect(dependency.held).toBe(2);

    dependency.release();
    await eventually('the queued http call reaches the server', async () => dependency.held === 1);
    dependency.release();
    const answers = await Promise.all(burst);
    const refused = answers.filter((a) => !a.success);
    expect(answers.filter((a) => a.success).map((a) => a.payload?.status_code)).toEqual([200, 200, 200]);
    expect(refused).toHaveLength(3);
    for (const a of refused) expect(a.error).toMatchObject({ code: 'INFRA_UNAVAILABLE' });
    const families = await (await fetch(`${chaos.url}/metrics`)).text();
    expect(families).toMatch(/^onex_bulkhead_rejections_total\{handler_type="http"\} 3$/m);
  }, 60_000);
});
