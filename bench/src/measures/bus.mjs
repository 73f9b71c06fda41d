/**
 * Measures 1 and 2: a request envelope published on the in-memory bus, consumed by the
 * runtime host, routed to a no-op node, and its response collected from the output
 * topic — against two Moleculer brokers talking over the `Fake` transporter.
 *
 * Every subject runs alone in a process of its own, the Moleculer pair too
 * (children/subject.mjs says why; lib/isolated.mjs drives them round-robin):
 * - `busMeasures`: ComputeNode echo (the judged rows), envelope objects and JSON text.
 *   The JSON-text rows use a host whose bus serializes the responses as well, and the
 *   client parses them back: both directions cross the wire as text, as Moleculer's
 *   `Fake` transporter serializes both its request and its response packets.
 * - `effectMeasures`: EffectNode → local.echo, through the host's no-publish guard in
 *   its default (`sync`) mode.
 *
 * Until 2026-11-26 the subjects shared one process; `ONEX_BENCH_SHARED_PROCESS=1` measures
 * them that way still, to compare with the older figures in docs/benchmarks.md.
 */
import { measureAll } from '../lib/drive.mjs';
import { measureIsolated } from '../lib/isolated.mjs';
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

/** @typedef {Awaited<ReturnType<typeof startHost>>} Host */

/**
 * Measures `subjects` against the Moleculer pair. Each entry of `hosts` starts one host
 * (max_in_flight = concurrency, so the host never becomes the queue); hosts that are not
 * being measured sit idle, their bus pumps waiting on empty queues.
 * @template {string} K
 * @param {number} concurrency
 * @param {{ wire?: boolean }[]} hosts
 * @param {(hosts: Host[]) => Record<K, (i: number) => Promise<unknown>>} subjects
 * @param {{ reps: number, budgetMs: number, warmupMs: number }} timing
 */
async function measureAgainstPeer(concurrency, hosts, subjects, timing) {
  const peer = await startRemotePair();
  /** @type {Host[]} */
  const started = [];
  try {
    for (const options of hosts) started.push(await startHost({ maxInFlight: concurrency, ...options }));
    const results = await measureAll({ ...subjects(started), moleculer: peer.call }, { concurrency, ...timing });
    for (const host of started) host.assertHealthy();
    return results;
  } finally {
    for (const host of started.reverse()) await host.stop();
    await peer.stop();
  }
}

const SHARED = process.env.ONEX_BENCH_SHARED_PROCESS === '1';
const HOW = SHARED ? 'one process' : 'own processes';

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function busMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const r = SHARED
      ? await measureAgainstPeer(
          concurrency,
          [{}, { wire: true }],
          ([onex, onexWire]) => ({
            'bus-compute': /** @type {Host} */ (onex).client({ targetNode: 'echo', operation: 'bench.echo' }),
            'bus-wire': /** @type {Host} */ (onexWire).client({ targetNode: 'echo', operation: 'bench.echo', wire: true }),
          }),
          timing,
        )
      : await measureIsolated(/** @type {const} */ (['bus-compute', 'bus-wire', 'moleculer']), { concurrency, ...timing });
    rows.push(row('1+2 bus round trip', concurrency, `host → ComputeNode echo, envelope object (${HOW})`, r['bus-compute'], PEER, r.moleculer, true));
    rows.push(row('1+2 bus round trip (info)', concurrency, 'host → ComputeNode echo, JSON text both ways (parse + validate)', r['bus-wire'], PEER, r.moleculer, false));
  }
  return rows;
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} timing @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function effectMeasures(timing) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  for (const concurrency of CONCURRENCIES) {
    const r = SHARED
      ? await measureAgainstPeer(concurrency, [{}], ([onex]) => ({ 'bus-effect': /** @type {Host} */ (onex).client({ targetNode: 'echo-effect', operation: 'local.echo' }) }), timing)
      : await measureIsolated(/** @type {const} */ (['bus-effect', 'moleculer']), { concurrency, ...timing });
    rows.push(row('1+2 bus round trip (info)', concurrency, 'host → EffectNode → local.echo (no-publish guard on)', r['bus-effect'], PEER, r.moleculer, false));
  }
  return rows;
}
