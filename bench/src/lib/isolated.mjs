/**
 * measureAll for subjects that each run in a process of their own (children/subject.mjs says
 * why): every subject is sized once (a child that warms up and reports how many calls fit in
 * the budget), similar speeds get the same count, then the repetitions run round-robin with
 * the order rotating, each in a fresh child, and each subject keeps its median repetition.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { medianRun } from './drive.mjs';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('../children/subject.mjs', import.meta.url));
/** At least this many repetitions: a process's JIT varies more from run to run than one process's repetitions do. */
const MIN_REPS = 5;

/**
 * @param {Record<string, unknown>} config
 * @returns {Promise<{ iterations?: number, result?: import('./drive.mjs').RunResult, lines?: number }>}
 */
async function child(config) {
  const { stdout } = await run(process.execPath, ['--expose-gc', CHILD, JSON.stringify(config)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

/**
 * @template {string} K
 * @param {readonly K[]} subjects names known to children/subject.mjs
 * @param {{ concurrency: number, reps: number, warmupMs: number, budgetMs: number }} options
 * @returns {Promise<Record<K, import('./drive.mjs').RunResult & { lines: number }>>} `lines`: log lines written over all repetitions
 */
export async function measureIsolated(subjects, { concurrency, reps, warmupMs, budgetMs }) {
  // Twice the usual run length: without a forced collection before it (children/subject.mjs
  // says why), a timed run must be long enough to hold the subject's own GC cycles.
  const base = { concurrency, warmupMs, budgetMs: budgetMs * 2 };
  /** @type {Map<K, number>} */
  const sizes = new Map();
  for (const subject of subjects) sizes.set(subject, (await child({ ...base, subject })).iterations ?? 0);
  const counts = [...sizes.values()];
  const most = Math.max(...counts);
  // Subjects of similar speed run the same number of calls: run length itself moves throughput.
  const iterations = (/** @type {K} */ s) => (most <= 3 * Math.min(...counts) ? most : (sizes.get(s) ?? 0));
  /** @type {Map<K, import('./drive.mjs').RunResult[]>} */
  const runs = new Map(subjects.map((s) => [s, []]));
  /** @type {Map<K, number>} */
  const lines = new Map(subjects.map((s) => [s, 0]));
  for (let rep = 0; rep < Math.max(reps, MIN_REPS); rep += 1) {
    for (let i = 0; i < subjects.length; i += 1) {
      const subject = /** @type {K} */ (subjects[(i + rep) % subjects.length]);
      const out = await child({ ...base, subject, iterations: iterations(subject) });
      if (out.result === undefined) throw new Error(`subject ${subject} printed no result`);
      runs.get(subject)?.push(out.result);
      lines.set(subject, (lines.get(subject) ?? 0) + (out.lines ?? 0));
    }
  }
  return /** @type {Record<K, import('./drive.mjs').RunResult & { lines: number }>} */ (
    Object.fromEntries(subjects.map((s) => [s, { ...medianRun(runs.get(s) ?? []), lines: lines.get(s) ?? 0 }]))
  );
}
