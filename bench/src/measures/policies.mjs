/**
 * Issue 9's performance requirement: what the policy and observability stack costs on a
 * no-op handler. The in-memory round trip (request envelope on `InMemoryEventBus` → host
 * → EffectNode → the `local` handler's `local.echo` → response from the output topic) is
 * measured on hosts that differ only in their settings, in one run, alternating, each host
 * in a process of its own (children/subject.mjs says why; the hosts are built there):
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
import { measureIsolated } from '../lib/isolated.mjs';
import { latency, micros, ops, times, verdict } from '../lib/table.mjs';

const CONCURRENCIES = [1, 64];
/** At most this much throughput lost to the stack. */
const MAX_LOSS = 0.1;
/** Less than this many µs added to the p99 latency per envelope. */
const MAX_ADDED_P99_US = 300;
const TARGET_TEXT = `≥ ${(1 - MAX_LOSS).toFixed(2)}×, p99 < +${MAX_ADDED_P99_US / 1000} ms`;

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function policyMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const r = await measureIsolated(/** @type {const} */ (['policy-full', 'policy-bare', 'policy-timeout']), { concurrency, ...timing });
    const fullSubject = `host → EffectNode → local.echo, metrics + info log + every policy + ttl (${r['policy-full'].lines} log lines while measured)`;
    const bareSubject = 'same, metrics off, silent, handler not wrapped';
    rows.push(compare(concurrency, fullSubject, r['policy-full'], bareSubject, r['policy-bare'], true));
    rows.push(compare(concurrency, 'same, metrics off, silent, timeout_ms only (breaker off) (info)', r['policy-timeout'], bareSubject, r['policy-bare'], false));
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
