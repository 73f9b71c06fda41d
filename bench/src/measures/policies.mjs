/**
 * Issue 9's performance requirement: what the policy and observability stack costs on a
 * no-op handler. The in-memory round trip (request envelope on `InMemoryEventBus` → host
 * → EffectNode → the `local` handler's `local.echo` → response from the output topic) is
 * measured on hosts that differ only in their settings, in one run, alternating, each host
 * in a process of its own (children/policy-host.mjs says why):
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
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { medianRun } from '../lib/drive.mjs';
import { latency, micros, ops, times, verdict } from '../lib/table.mjs';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('../children/policy-host.mjs', import.meta.url));
const CONCURRENCIES = [1, 64];
/** At most this much throughput lost to the stack. */
const MAX_LOSS = 0.1;
/** Less than this many µs added to the p99 latency per envelope. */
const MAX_ADDED_P99_US = 300;
const TARGET_TEXT = `≥ ${(1 - MAX_LOSS).toFixed(2)}×, p99 < +${MAX_ADDED_P99_US / 1000} ms`;
/** The host configurations (built in children/policy-host.mjs), in the order of the first repetition. */
const VARIANTS = /** @type {const} */ (['full', 'bare', 'timeout']);
const MIN_REPS = 5;

/**
 * One child run of a configuration.
 * @param {Record<string, unknown>} config
 * @returns {Promise<any>}
 */
async function child(config) {
  const { stdout } = await run(process.execPath, ['--expose-gc', CHILD, JSON.stringify(config)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

/**
 * Each configuration in a process of its own (see children/policy-host.mjs for why), the
 * way measureAll runs calls in one: sized first, then the repetitions round-robin with the
 * order rotating, the median kept.
 * @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>}
 */
export async function policyMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const base = { concurrency, warmupMs: timing.warmupMs, budgetMs: timing.budgetMs };
    /** @type {Record<string, number>} */
    const sizes = {};
    for (const variant of VARIANTS) sizes[variant] = (await child({ ...base, variant })).iterations;
    // Similar speeds run the same count: run length itself moves throughput.
    const most = Math.max(...Object.values(sizes));
    const iterations = (/** @type {string} */ v) => (most <= 3 * Math.min(...Object.values(sizes)) ? most : sizes[v]);
    /** @type {Record<string, import('../lib/drive.mjs').RunResult[]>} */
    const runs = { full: [], bare: [], timeout: [] };
    let lines = 0;
    // At least five: a process's JIT varies more from run to run than one process's repetitions do.
    for (let rep = 0; rep < Math.max(timing.reps, MIN_REPS); rep += 1) {
      for (let i = 0; i < VARIANTS.length; i += 1) {
        const variant = VARIANTS[(i + rep) % VARIANTS.length] ?? 'bare';
        const out = await child({ ...base, variant, iterations: iterations(variant) });
        runs[variant]?.push(out.result);
        if (variant === 'full') lines += out.lines;
      }
    }
    const [full, bare, timeout] = VARIANTS.map((v) => medianRun(runs[v] ?? []));
    const fullSubject = `host → EffectNode → local.echo, metrics + info log + every policy + ttl (${lines} log lines while measured)`;
    const bareSubject = 'same, metrics off, silent, handler not wrapped';
    rows.push(compare(concurrency, fullSubject, /** @type {any} */ (full), bareSubject, /** @type {any} */ (bare), true));
    rows.push(compare(concurrency, 'same, metrics off, silent, timeout_ms only (breaker off) (info)', /** @type {any} */ (timeout), bareSubject, /** @type {any} */ (bare), false));
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
