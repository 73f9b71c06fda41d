/**
 * Measure 3: the in-process call path without any bus. NodeRuntime.routeEnvelope on an
 * already-parsed envelope against Moleculer's local broker.call and a bare async
 * function (the ceiling of this harness).
 */
import { randomUUID } from 'node:crypto';
import { NodeRuntime, createRequestEnvelope } from '@onex/core';
import { measureAll } from '../lib/drive.mjs';
import { startLocalBroker } from '../lib/moleculer.mjs';
import { echoComputeNode } from '../lib/onex.mjs';
import { latency, ops, times, verdict } from '../lib/table.mjs';

const TARGET = 0.5;

/** @param {unknown} input */
async function bareEcho(input) {
  return input;
}

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function directMeasures({ reps, budgetMs, warmupMs }) {
  const runtime = new NodeRuntime();
  runtime.registerNode(echoComputeNode());
  const envelope = createRequestEnvelope({ operation: 'bench.echo', targetNode: 'echo', correlationId: randomUUID(), payload: { n: 1 } });
  const payload = { n: 1 };
  const broker = await startLocalBroker();
  try {
    const probe = await runtime.routeEnvelope(envelope);
    if (probe.success !== true) throw new Error(`routeEnvelope failed: ${JSON.stringify(probe.error)}`);
    const r = await measureAll(
      {
        onex: () => runtime.routeEnvelope(envelope),
        moleculer: () => broker.call(1),
        bare: () => bareEcho(payload),
      },
      // Sequential awaits, no per-call timestamps: at these rates the two performance.now()
      // calls would be a visible share of the cost.
      { concurrency: 1, reps, budgetMs, warmupMs, latency: false },
    );
    const vsMoleculer = r.onex.opsPerSec / r.moleculer.opsPerSec;
    const vsBare = r.onex.opsPerSec / r.bare.opsPerSec;
    return [
      {
        measure: '3 direct call, no bus',
        conc: '1',
        subject: 'NodeRuntime.routeEnvelope → ComputeNode echo',
        subjectValue: ops(r.onex.opsPerSec),
        subjectLatency: latency(r.onex),
        baseline: 'Moleculer local broker.call, validator on',
        baselineValue: ops(r.moleculer.opsPerSec),
        baselineLatency: latency(r.moleculer),
        ratio: times(vsMoleculer),
        target: `≥ ${TARGET}×`,
        verdict: verdict(vsMoleculer >= TARGET),
      },
      {
        measure: '3 direct call (ceiling)',
        conc: '1',
        subject: 'NodeRuntime.routeEnvelope → ComputeNode echo',
        subjectValue: ops(r.onex.opsPerSec),
        subjectLatency: latency(r.onex),
        baseline: 'bare async function',
        baselineValue: ops(r.bare.opsPerSec),
        baselineLatency: latency(r.bare),
        ratio: times(vsBare),
        target: '–',
        verdict: '–',
      },
    ];
  } finally {
    await broker.stop();
  }
}
