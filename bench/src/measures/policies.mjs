/**
 * Issue 9's performance requirement: what the policy and observability stack costs on a
 * no-op handler. The in-memory round trip (request envelope on `InMemoryEventBus` → host
 * → EffectNode → the `local` handler's `local.echo` → response from the output topic) is
 * measured on hosts that differ only in their settings, in one run, alternating:
 *
 * - `full`: metrics on as a contract turns them on (prom-client, process metrics too),
 *   a pino logger at `info` writing each line to `/dev/null` with a synchronous write
 *   (what `pino.destination()` does for a file), and every policy on the binding:
 *   `timeout_ms`, `retry_policy`, a `rate_limit` too high to throttle, the default
 *   circuit breaker, a `bulkhead` too large to reject; every envelope carries
 *   `ttl_seconds`, so the deadline is computed and armed on each call.
 * - `bare`: metrics off, the silent logger, and no policies at all: the handler is not
 *   wrapped (a hand-built host's binding without `policies`). The judged baseline: it
 *   prices everything the stack adds, the per-call timeout signal included.
 * - `timeout`: metrics off, silent, policies as a contract binding with everything that can
 *   be turned off turned off (`circuit_breaker.enabled: false`, no bulkhead, rate limit,
 *   retry or deadline); `timeout_ms` stays, a contract cannot remove it. Information.
 *
 * The handler is the `local` handler's echo, not the ComputeNode of the bus rows: a
 * ComputeNode calls no handler, so no policy would run. Tracing (`@opentelemetry/api`, no
 * SDK installed: non-recording spans) is on in every host, as the host has no switch for it.
 */
import fs from 'node:fs';
import { RUNTIME_HOST_DEFAULTS } from '@onex/core';
import { createLogger } from '@onex/infra';
import { measureAll } from '../lib/drive.mjs';
import { startHost } from '../lib/onex.mjs';
import { latency, micros, ops, times, verdict } from '../lib/table.mjs';

const CONCURRENCIES = [1, 64];
/** At most this much throughput lost to the stack. */
const MAX_LOSS = 0.1;
/** Less than this many µs added to the p99 latency per envelope. */
const MAX_ADDED_P99_US = 300;
const TARGET_TEXT = `≥ ${(1 - MAX_LOSS).toFixed(2)}×, p99 < +${MAX_ADDED_P99_US / 1000} ms`;
const TTL_SECONDS = 60;
const CALL = { targetNode: 'echo-effect', operation: 'local.echo' };

/** @type {import('@onex/core').HandlerPolicies} */
export const FULL_POLICIES = Object.freeze({
  timeoutMs: 5_000,
  retryPolicy: RUNTIME_HOST_DEFAULTS.retryPolicy,
  // Ten million per second with a burst of a million: never the limit in a closed loop.
  rateLimit: { perSecond: 10_000_000, burst: 1_000_000 },
  circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker,
  bulkhead: { maxConcurrent: 1_024, maxQueue: 0 },
});

/** @type {import('@onex/core').HandlerPolicies} */
const TIMEOUT_ONLY = Object.freeze({
  timeoutMs: RUNTIME_HOST_DEFAULTS.handlerTimeoutMs,
  retryPolicy: undefined,
  rateLimit: undefined,
  circuitBreaker: { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, enabled: false },
  bulkhead: undefined,
});

const METRICS_ON = { enabled: true, defaultMetrics: true };
const METRICS_OFF = { enabled: false, defaultMetrics: false };

/** A pino destination that costs what a file does (one write(2) per line) and counts the lines. */
function devNullSink() {
  const fd = fs.openSync('/dev/null', 'w');
  const sink = {
    lines: 0,
    /** @param {string} line */
    write(line) {
      sink.lines += 1;
      fs.writeSync(fd, line);
    },
    close: () => fs.closeSync(fd),
  };
  return sink;
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function policyMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const sink = devNullSink();
    const logger = createLogger({ level: 'info', destination: sink });
    /** @type {Awaited<ReturnType<typeof startHost>>[]} */
    const hosts = [];
    try {
      const handler = (/** @type {import('@onex/core').HandlerPolicies | undefined} */ policies) => [{ type: 'local', config: {}, ...(policies ? { policies } : {}) }];
      const full = await startHost({ maxInFlight: concurrency, handlers: handler(FULL_POLICIES), metrics: METRICS_ON, logger });
      hosts.push(full);
      const bare = await startHost({ maxInFlight: concurrency, handlers: handler(undefined), metrics: METRICS_OFF });
      hosts.push(bare);
      const timeout = await startHost({ maxInFlight: concurrency, handlers: handler(TIMEOUT_ONLY), metrics: METRICS_OFF });
      hosts.push(timeout);
      const linesAtStart = sink.lines;
      const r = await measureAll(
        { full: full.client({ ...CALL, ttlSeconds: TTL_SECONDS }), bare: bare.client(CALL), timeout: timeout.client(CALL) },
        { concurrency, ...timing },
      );
      for (const host of hosts) host.assertHealthy();
      const lines = sink.lines - linesAtStart;
      const fullSubject = `host → EffectNode → local.echo, metrics + info log + every policy + ttl (${lines} log lines while measured)`;
      const bareSubject = 'same, metrics off, silent, handler not wrapped';
      rows.push(compare(concurrency, fullSubject, r.full, bareSubject, r.bare, true));
      rows.push(compare(concurrency, 'same, metrics off, silent, timeout_ms only (breaker off) (info)', r.timeout, bareSubject, r.bare, false));
    } finally {
      for (const host of hosts.reverse()) await host.stop();
      sink.close();
    }
  }
  return rows;
}

/**
 * @param {number} concurrency @param {string} subject @param {import('../lib/drive.mjs').RunResult} s
 * @param {string} baseline @param {import('../lib/drive.mjs').RunResult} b @param {boolean} judged
 * @returns {import('../lib/table.mjs').Row}
 */
function compare(concurrency, subject, s, baseline, b, judged) {
  const ratio = s.opsPerSec / b.opsPerSec;
  const addedP99 = (s.p99Us ?? Number.NaN) - (b.p99Us ?? Number.NaN);
  const signed = `${addedP99 >= 0 ? '+' : '−'}${micros(Math.abs(addedP99))}`;
  return {
    measure: judged ? '9 policy + observability stack' : '9 policy stack (info)',
    conc: String(concurrency),
    subject,
    subjectValue: ops(s.opsPerSec),
    subjectLatency: latency(s),
    baseline,
    baselineValue: ops(b.opsPerSec),
    baselineLatency: latency(b),
    ratio: `${times(ratio)}, p99 ${signed}`,
    target: judged ? TARGET_TEXT : '–',
    verdict: judged ? verdict(ratio >= 1 - MAX_LOSS && addedP99 < MAX_ADDED_P99_US) : '–',
  };
}
