/**
 * Issue 16's performance requirements for user node code and contract models, each
 * subject in a process of its own (children/subject.mjs says why; lib/isolated.mjs drives
 * them round-robin). Every node is built from a contract file in src/fixtures/ the way the
 * binary's loader builds it (lib/contract-nodes.mjs), runs the quickstart's `order_total`
 * on a realistic order (three lines and a discount), and is probed before it is timed.
 *
 * - "user module vs built-in": the route's code as a module export
 *   (`implementation: { module: './pricing.mjs', export: 'orderTotal' }`, a
 *   `defineCompute` definition imported with `import()`) against the same function built
 *   into the host (`handler.name: order_total`). Same routing, no models checked;
 *   envelope objects on the bus (the `bus-compute` path), where the node's share of a round
 *   trip is largest. Judged: at least 0.95×. Information: the same export with a zod input
 *   schema (./pricing-zod.mjs, a module of its own so the judged subject never loads zod).
 * - "model enforcement, JSON text": the `bus-wire` path (JSON text both ways) to the
 *   built-in node whose input_model and output_model have `fields:` (those of
 *   examples/quickstart/nodes/order_calculator.yaml), against the same contract with models
 *   that declare no fields (nothing checked). Judged: at least 0.90×.
 * - "control": the built-in subject against a second, identical process of itself. The
 *   two run the same code, so its distance from 1.00× is what this machine cannot tell
 *   apart; read the judged 0.95× row beside it.
 */
import { measureIsolated } from '../lib/isolated.mjs';
import { latency, ops, times, verdict } from '../lib/table.mjs';

const CONCURRENCIES = [1, 64];
/** A user module's node runs at least this share of the built-in's throughput. */
const MODULE_TARGET = 0.95;
/** Model enforcement keeps at least this share of the JSON-text round trip. */
const MODEL_TARGET = 0.9;

/**
 * @param {string} measure @param {number} concurrency
 * @param {string} subject @param {import('../lib/drive.mjs').RunResult} s
 * @param {string} baseline @param {import('../lib/drive.mjs').RunResult} b
 * @param {number | undefined} target undefined: an information row
 * @returns {import('../lib/table.mjs').Row}
 */
function compare(measure, concurrency, subject, s, baseline, b, target) {
  const ratio = s.opsPerSec / b.opsPerSec;
  return {
    measure,
    conc: String(concurrency),
    subject,
    subjectValue: ops(s.opsPerSec),
    subjectLatency: latency(s),
    baseline,
    baselineValue: ops(b.opsPerSec),
    baselineLatency: latency(b),
    ratio: times(ratio),
    target: target === undefined ? '–' : `≥ ${target.toFixed(2)}×`,
    verdict: target === undefined ? '–' : verdict(ratio >= target),
  };
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function nodeMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const code = await measureIsolated(/** @type {const} */ (['node-module', 'node-builtin', 'node-module-zod', 'node-builtin-control']), { concurrency, ...timing });
    const builtin = 'same function built in (handler.name: order_total)';
    rows.push(compare('16 user module vs built-in', concurrency, 'host → COMPUTE order_total from ./pricing.mjs#orderTotal (defineCompute, import()), envelope object', code['node-module'], builtin, code['node-builtin'], MODULE_TARGET));
    rows.push(compare('16 user module (info)', concurrency, 'same from ./pricing-zod.mjs#orderTotal, defineCompute with a zod input schema', code['node-module-zod'], builtin, code['node-builtin'], undefined));
    rows.push(compare('16 control (info)', concurrency, 'the built-in subject again, a process of its own', code['node-builtin-control'], builtin, code['node-builtin'], undefined));
    const models = await measureIsolated(/** @type {const} */ (['model-fields', 'model-none']), { concurrency, ...timing });
    rows.push(compare('16 model enforcement, JSON text', concurrency, 'host → COMPUTE order_total, input_model + output_model fields checked, JSON text both ways', models['model-fields'], 'same contract, models without fields (nothing checked)', models['model-none'], MODEL_TARGET));
  }
  return rows;
}
