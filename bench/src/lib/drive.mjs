/**
 * The one load driver every measure uses, so ONEX and its baselines pay exactly the
 * same harness cost: `concurrency` closed-loop workers pull iteration numbers from a
 * shared counter, each awaiting its call before taking the next.
 */
import { performance } from 'node:perf_hooks';

/**
 * @typedef {(i: number) => Promise<unknown>} Call
 * @typedef {{ opsPerSec: number, p50Us: number | undefined, p99Us: number | undefined, meanUs: number, iterations: number, elapsedMs: number }} RunResult
 */

/** Forces a full collection when the process runs with --expose-gc, so one run's garbage is not the next run's pause. */
export function collect() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/**
 * Runs `iterations` calls with `concurrency` outstanding at a time.
 * @param {Call} call
 * @param {{ concurrency: number, iterations: number, latency?: boolean }} options
 * @returns {Promise<RunResult>}
 */
export async function closedLoop(call, { concurrency, iterations, latency = true }) {
  const samples = latency ? new Float64Array(iterations) : undefined;
  let next = 0;
  const worker = samples
    ? async () => {
        for (let i = next++; i < iterations; i = next++) {
          const t0 = performance.now();
          await call(i);
          samples[i] = performance.now() - t0;
        }
      }
    : async () => {
        for (let i = next++; i < iterations; i = next++) await call(i);
      };
  const started = performance.now();
  if (concurrency === 1) await worker();
  else await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  /** @type {RunResult} */
  const result = {
    opsPerSec: (iterations / elapsedMs) * 1000,
    meanUs: (elapsedMs * 1000) / iterations,
    p50Us: undefined,
    p99Us: undefined,
    iterations,
    elapsedMs,
  };
  if (samples) {
    samples.sort();
    result.p50Us = percentile(samples, 0.5) * 1000;
    result.p99Us = percentile(samples, 0.99) * 1000;
  }
  return result;
}

/** @param {Float64Array} sorted @param {number} q */
export function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return /** @type {number} */ (sorted[index]);
}

/** @param {number[]} values */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return /** @type {number} */ (s[Math.floor(s.length / 2)]);
}

/**
 * Warms `call` up for `warmupMs` (JIT, pools, caches) and returns how many iterations
 * fit in `budgetMs` at the warmed-up rate, clamped to [min, max]. Every repetition of
 * a measure then runs that same fixed count.
 * @param {Call} call
 * @param {{ concurrency: number, warmupMs: number, budgetMs: number, min?: number, max?: number }} options
 */
export async function warmUpAndSize(call, { concurrency, warmupMs, budgetMs, min = 200, max = 5_000_000 }) {
  let iterations = Math.max(50, concurrency * 4);
  let spent = 0;
  let rate = 0;
  // Grow the probe until it has run long enough to give a believable rate.
  while (spent < warmupMs) {
    const r = await closedLoop(call, { concurrency, iterations, latency: false });
    spent += r.elapsedMs;
    rate = r.opsPerSec;
    if (r.elapsedMs < warmupMs / 4) iterations *= 4;
  }
  return Math.round(Math.min(max, Math.max(min, (rate * budgetMs) / 1000)));
}

/**
 * Measures several calls the same way: each is warmed up (twice) and sized, then the
 * repetitions run round-robin (rotating who goes first) so machine drift hits all of
 * them alike, and each keeps its repetition with the median throughput.
 * @template {string} K
 * @param {Record<K, Call>} calls
 * @param {{ concurrency: number, reps?: number, warmupMs?: number, budgetMs?: number, latency?: boolean, maxIterations?: number }} options
 * @returns {Promise<Record<K, RunResult>>}
 */
export async function measureAll(calls, { concurrency, reps = 3, warmupMs = 400, budgetMs = 700, latency = true, maxIterations }) {
  const names = /** @type {K[]} */ (Object.keys(calls));
  const sized = { concurrency, warmupMs, budgetMs, ...(maxIterations ? { max: maxIterations } : {}) };
  /** @type {Map<K, number>} */ const iterations = new Map();
  // Two passes: sizing on a first warm-up would favour whoever runs after the shared code
  // (the core, the driver, the event loop machinery) is already compiled.
  for (const name of names) await warmUpAndSize(calls[name], sized);
  for (const name of names) iterations.set(name, await warmUpAndSize(calls[name], sized));
  // Subjects of similar speed run the same number of calls: run length itself moves
  // throughput (pool and JIT steady state), so unequal lengths bias the ratio.
  const counts = [...iterations.values()];
  const most = Math.max(...counts);
  if (most <= 3 * Math.min(...counts)) for (const name of names) iterations.set(name, most);
  /** @type {Map<K, RunResult[]>} */ const runs = new Map(names.map((n) => [n, []]));
  for (let rep = 0; rep < reps; rep += 1) {
    const order = names.map((_, i) => /** @type {K} */ (names[(i + rep) % names.length]));
    for (const name of order) {
      collect();
      runs.get(name)?.push(await closedLoop(calls[name], { concurrency, iterations: iterations.get(name) ?? 0, latency }));
    }
  }
  return /** @type {Record<K, RunResult>} */ (Object.fromEntries(names.map((n) => [n, medianRun(runs.get(n) ?? [])])));
}

/** @param {RunResult[]} runs */
export function medianRun(runs) {
  const sorted = [...runs].sort((x, y) => x.opsPerSec - y.opsPerSec);
  return /** @type {RunResult} */ (sorted[Math.floor(sorted.length / 2)]);
}
