/**
 * Chaos: a real local HTTP dependency that drops N connections and then recovers, behind a
 * host built from a contract. The failures are transport-level (the socket is destroyed
 * before any answer), which is what the retry loop and the breaker count; a 5xx answer
 * would be a successful transport result (docs/resilience.md).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, metricValue, scrape, send, startChaosHost, type ChaosHost } from './chaos-kit.js';

/** A dependency on 127.0.0.1 that destroys the next `failures` connections, then answers 200. */
class FlakyServer {
  failures = 0;
  /** Requests that reached the server, failed or answered. */
  calls = 0;
  readonly #server = http.createServer((req, res) => {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ ok: true }));
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/resource`;
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const RESET_MS = 3000;

describe('a flaky HTTP dependency: retries, then the breaker opens, half-opens and closes', () => {
  const dependency = new FlakyServer();
  let chaos: ChaosHost;

  beforeAll(async () => {
    await dependency.start();
    chaos = await startChaosHost([
      '    - type: "http"',
      '      config:',
      '        allowed_domains: ["127.0.0.1"]',
      '        timeout_ms: 5000',
      '        retry_policy: { max_retries: 2, backoff_strategy: "fixed", base_delay_ms: 1, max_delay_ms: 1 }',
      `        circuit_breaker: { threshold: 3, reset_timeout_ms: ${RESET_MS}, half_open_successes: 1 }`,
    ]);
  });
  afterAll(async () => {
    await chaos?.close();
    await dependency.close();
  });

  const get = () => send(chaos.url, 'http.get', { url: dependency.url });

  it('succeeds through retries when the failures fit in the retry budget', async () => {
    dependency.failures = 2;
    const answer = await get();
    expect(answer.success).toBe(true);
    expect(answer.payload).toMatchObject({ status_code: 200, body: { ok: true } });
    expect(dependency.calls).toBe(3);
    expect(chaos.host.circuitStates()).toMatchObject({ http: 'closed' });
    const families = await scrape(chaos.url);
    expect(metricValue(families, 'onex_retries_total', { handler_type: 'http', operation: 'http.get' })).toBe(2);
  });

  it('opens after more failures, fails fast without calling the dependency, then half-opens and closes', async () => {
    dependency.failures = 1_000;
    const failed = await get();
    expect(failed.success).toBe(false);
    expect(failed.error).toMatchObject({ code: 'INFRA_CONNECTION_ERROR', retryable: true });
    // Three consecutive transport failures (first try and two retries) reach the threshold.
    expect(chaos.host.circuitStates()).toMatchObject({ http: 'open' });

    const callsWhenOpened = dependency.calls;
    const fast = await get();
    expect(fast.success).toBe(false);
    expect(fast.error).toMatchObject({ code: 'INFRA_UNAVAILABLE' });
    expect(fast.error?.retry_after_seconds).toEqual(expect.any(Number));
    expect(fast.error?.retry_after_seconds).toBeGreaterThan(0);
    expect(dependency.calls).toBe(callsWhenOpened);

    let families = await scrape(chaos.url);
    expect(metricValue(families, 'onex_circuit_state', { handler_type: 'http', state: 'open' })).toBe(1);
    expect(metricValue(families, 'onex_circuit_state', { handler_type: 'http', state: 'closed' })).toBe(0);
    expect(metricValue(families, 'onex_circuit_transitions_total', { handler_type: 'http', to: 'open' })).toBe(1);
    expect(metricValue(families, 'onex_circuit_rejections_total', { handler_type: 'http' })).toBeGreaterThanOrEqual(1);

    // The dependency recovers; once the reset timeout has passed the breaker reads half-open,
    // and the first call is its trial: it succeeds and closes the breaker.
    dependency.failures = 0;
    await eventually('the breaker half-opens', async () => chaos.host.circuitStates().http === 'half_open', 2 * RESET_MS);
    const trial = await get();
    expect(trial.success).toBe(true);
    expect(dependency.calls).toBe(callsWhenOpened + 1);
    expect(chaos.host.circuitStates()).toMatchObject({ http: 'closed' });

    families = await scrape(chaos.url);
    expect(metricValue(families, 'onex_circuit_state', { handler_type: 'http', state: 'closed' })).toBe(1);
    expect(metricValue(families, 'onex_circuit_state', { handler_type: 'http', state: 'open' })).toBe(0);
    expect(metricValue(families, 'onex_circuit_transitions_total', { handler_type: 'http', to: 'half_open' })).toBe(1);
    expect(metricValue(families, 'onex_circuit_transitions_total', { handler_type: 'http', to: 'closed' })).toBe(1);
    // Every later call goes through again.
    for (let i = 0; i < 3; i += 1) expect((await get()).success).toBe(true);
  }, 60_000);
});
