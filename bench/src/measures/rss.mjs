/**
 * Measure 5: resident memory of a loaded host, each configuration in a fresh child
 * process, against a bare `node -e` process measured the same way.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from '../lib/drive.mjs';
import { mb, verdict } from '../lib/table.mjs';

const run = promisify(execFile);
const TARGET_BYTES = 80 * 1024 * 1024;
const HOST = fileURLToPath(new URL('../children/rss-host.mjs', import.meta.url));
const BARE = `for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
const u = process.memoryUsage(); console.log(JSON.stringify({ rss: u.rss, heapUsed: u.heapUsed, external: u.external, gc: true }));`;

/** @param {string[]} args @returns {Promise<{ rss: number, heapUsed: number, external: number }>} */
async function sample(args) {
  const { stdout } = await run(process.execPath, ['--expose-gc', ...args], { timeout: 60_000 });
  const last = stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last);
}

/** @param {string[]} args @param {number} reps */
async function medianSample(args, reps) {
  const samples = [];
  for (let i = 0; i < reps; i += 1) samples.push(await sample(args));
  return { rss: median(samples.map((s) => s.rss)), heapUsed: median(samples.map((s) => s.heapUsed)) };
}

/** @param {{ reps: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function rssMeasures({ reps }) {
  const bare = await medianSample(['--input-type=module', '-e', BARE], reps);
  /** @type {{ subject: string, args: string[], info?: boolean, reps?: number }[]} */
  const configs = [
    { subject: 'host, 10 nodes, http + local handlers, 1,000 envelopes', args: [HOST] },
    { subject: 'same, node --max-semi-space-size=1 (info)', args: ['--max-semi-space-size=1', HOST], info: true },
    // PGlite takes seconds to boot its WASM: one sample, not the median of three. Not judged:
    // it is the quick start's embedded database, whose WASM heap alone is ~250 MB.
    { subject: 'same + db handler on pglite://memory (PGlite WASM), 1 sample (info)', args: [HOST, '--db'], reps: 1, info: true },
  ];
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const c of configs) {
    const s = await medianSample(c.args, c.reps ?? reps);
    rows.push({
      measure: '5 RSS after GC',
      conc: '16',
      subject: c.subject,
      subjectValue: mb(s.rss),
      subjectLatency: `heap ${mb(s.heapUsed)}`,
      baseline: 'bare `node -e` process',
      baselineValue: mb(bare.rss),
      baselineLatency: `heap ${mb(bare.heapUsed)}`,
      ratio: `+${mb(s.rss - bare.rss)}`,
      target: c.info ? '–' : '< 80 MB',
      verdict: c.info ? '–' : verdict(s.rss < TARGET_BYTES),
    });
  }
  return rows;
}
