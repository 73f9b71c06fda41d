/**
 * Measures 1 and 2: a request envelope published on the in-memory bus, consumed by the
 * runtime host, routed to a no-op node, and its response collected from the output
 * topic — against two Moleculer brokers talking over the `Fake` transporter.
 *
 * Two phases, in this order within one process:
 * - `busMeasures`: ComputeNode echo (the judged rows), envelope objects and JSON text.
 * - `effectMeasures`: EffectNode → local.echo, through the host's no-publish guard in
 *   its default (`sync`) mode. It runs last anyway: should anyone switch the bench to
 *   the `async` guard, AsyncLocalStorage turns on promise hooks for the whole process
 *   on Node 20, and every later measure would pay for it.
 */
import { measureAll } from '../lib/drive.mjs';
import { startRemotePair } from '../lib/moleculer.mjs';
import { startHost } from '../lib/onex.mjs';
import { latency, ops, times, verdict } from '../lib/table.mjs';

const TARGET = 2;
const CONCURRENCIES = [1, 64];
const PEER = 'Moleculer A→B, Fake transporter, validator on';

/**
 * @param {string} measure @param {number} concurrency @param {string} subject
 * @param {import('../lib/drive.mjs').RunResult} r @param {string} baseline @param {import('../lib/drive.mjs').RunResult} m @param {boolean} judged
 * @returns {import('../lib/table.mjs').Row}
 */
function row(measure, concurrency, subject, r, baseline, m, judged) {
  const ratio = r.opsPerSec / m.opsPerSec;
  return {
    measure,
    conc: String(concurrency),
    subject,
    subjectValue: ops(r.opsPerSec),
    subjectLatency: latency(r),
    baseline,
    baselineValue: ops(m.opsPerSec),
    baselineLatency: latency(m),
    ratio: times(ratio),
    target: judged ? `≥ ${TARGET}×` : '–',
    verdict: judged ? verdict(ratio >= TARGET) : '–',
  };
}

/**
 * @template {string} K
 * @param {number} concurrency
 * @param {(onex: Awaited<ReturnType<typeof startHost>>) => Record<K, (i: number) => Promise<unknown>>} subjects
 * @param {{ reps: number, budgetMs: number, warmupMs: number }} timing
 */
async function measureAgainstPeer(concurrency, subjects, timing) {
  const peer = await startRemotePair();
  // max_in_flight equals the offered concurrency: the host never becomes the queue.
  const onex = await startHost({ maxInFlight: concurrency });
  try {
    const results = await measureAll({ ...subjects(onex), moleculer: peer.call }, { concurrency, ...timing });
    onex.assertHealthy();
    return results;
  } finally {
    await onex.stop();
    await peer.stop();
  }
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function busMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const r = await measureAgainstPeer(
      concurrency,
      (onex) => ({
        compute: onex.client({ targetNode: 'echo', operation: 'bench.echo' }),
        wire: onex.client({ targetNode: 'echo', operation: 'bench.echo', wire: true }),
      }),
      timing,
    );
    rows.push(row('1+2 bus round trip', concurrency, 'host → ComputeNode echo, envelope object', r.compute, PEER, r.moleculer, true));
    rows.push(row('1+2 bus round trip (info)', concurrency, 'host → ComputeNode echo, JSON text (parse + validate)', r.wire, PEER, r.moleculer, false));
  }
  return rows;
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function effectMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const r = await measureAgainstPeer(concurrency, (onex) => ({ effect: onex.client({ targetNode: 'echo-effect', operation: 'local.echo' }) }), timing);
    rows.push(row('1+2 bus round trip (info)', concurrency, 'host → EffectNode → local.echo (no-publish guard on)', r.effect, `${PEER}, same process`, r.moleculer, false));
  }
  return rows;
}
