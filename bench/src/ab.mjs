/**
 * Same-process before/after comparison of two builds of this repository (for a change
 * that must not cost the judged rows more than a few per cent). Both builds are loaded
 * into one process and measured in alternating windows, so machine drift hits both
 * alike; the median of the after/before ratios is printed with its spread.
 *
 *   git worktree add /tmp/onex-before <rev> && (cd /tmp/onex-before && pnpm install && pnpm build)
 *   node --expose-gc bench/src/ab.mjs --before=/tmp/onex-before [--after=.] [--rounds=21]
 *
 * Rows: NodeRuntime.routeEnvelope → ComputeNode echo (the judged direct row), and the
 * in-memory bus round trip through RuntimeHostProcess at concurrency 1 and 64.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => /** @type {[string, string]} */ (a.replace(/^--/, '').split('=', 2))));
const before = path.resolve(args.get('before') ?? '');
const after = path.resolve(args.get('after') ?? '.');
const rounds = Number(args.get('rounds') ?? 21);
if (!args.get('before')) throw new Error('usage: node --expose-gc bench/src/ab.mjs --before=<checkout of the old revision, built> [--after=.] [--rounds=21]');

/** @param {string} root */
async function load(root) {
  return {
    core: await import(pathToFileURL(`${root}/packages/core/dist/index.js`).href),
    infra: await import(pathToFileURL(`${root}/packages/infra/dist/index.js`).href),
  };
}

/** A call that routes one envelope directly. @param {any} m */
function direct(m) {
  const runtime = new m.core.NodeRuntime({});
  runtime.registerNode(new m.core.ComputeNode({ slug: 'echo', compute: (/** @type {unknown} */ x) => x }));
  const envelope = m.core.createRequestEnvelope({ operation: 'echo.run', targetNode: 'echo', payload: { n: 1 } });
  return { call: () => runtime.routeEnvelope(envelope), stop: async () => undefined };
}

/** A request/response call through the host on an in-memory bus. @param {any} m @param {number} maxInFlight */
async function bus(m, maxInFlight) {
  const IN = 'onex.bench.ab.cmd.v1';
  const OUT = 'onex.bench.ab.evt.v1';
  const b = new m.infra.InMemoryEventBus({});
  const host = new m.infra.RuntimeHostProcess({
    settings: { name: 'ab', version: '1.0.0', inputTopic: IN, outputTopic: OUT, maxInFlight, drainTimeoutMs: 2000, handlers: [] },
    bus: b,
    nodes: [new m.core.ComputeNode({ slug: 'echo', compute: (/** @type {unknown} */ x) => x })],
  });
  /** @type {Map<string, (v: unknown) => void>} */
  const waiting = new Map();
  await b.subscribe(OUT, async (/** @type {any} */ message) => {
    const resolve = waiting.get(message.value.causationId);
    waiting.delete(message.value.causationId);
    resolve?.(message.value);
    await message.settle?.({ kind: 'processed', outputs: [] });
  });
  await host.start();
  let i = 0;
  const call = () => {
    const envelope = m.core.createRequestEnvelope({ operation: 'echo.run', targetNode: 'echo', payload: { n: (i += 1) } });
    const answered = new Promise((resolve) => waiting.set(envelope.envelopeId, resolve));
    return b.publishEnvelope(envelope, IN).then(() => answered);
  };
  return { call, stop: () => host.stop() };
}

/** Calls per second over `ms`, with `workers` closed loops. @param {() => Promise<unknown>} call */
async function windowRate(call, workers, ms) {
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < end) {
      await call();
      n += 1;
    }
  }));
  return n / (ms / 1000);
}

const builds = { before: await load(before), after: await load(after) };
const rows = [
  { name: 'direct routeEnvelope → ComputeNode', workers: 1, make: (/** @type {any} */ m) => direct(m) },
  { name: 'bus round trip, concurrency 1', workers: 1, make: (/** @type {any} */ m) => bus(m, 1) },
  { name: 'bus round trip, concurrency 64', workers: 64, make: (/** @type {any} */ m) => bus(m, 64) },
];
console.log(`before: ${before}\nafter:  ${after}\nrounds: ${rounds} alternating windows of 500 ms per build`);
for (const row of rows) {
  const subjects = { before: await row.make(builds.before), after: await row.make(builds.after) };
  for (const k of /** @type {const} */ (['before', 'after'])) await windowRate(subjects[k].call, row.workers, 1000);
  const ratios = [];
  for (let r = 0; r < rounds; r += 1) {
    const order = /** @type {const} */ (r % 2 ? ['after', 'before'] : ['before', 'after']);
    /** @type {Record<string, number>} */
    const rate = {};
    for (const k of order) {
      globalThis.gc?.();
      rate[k] = await windowRate(subjects[k].call, row.workers, 500);
    }
    ratios.push((rate.after ?? 0) / (rate.before ?? 1));
  }
  ratios.sort((a, b) => a - b);
  const pick = (/** @type {number} */ q) => (ratios[Math.floor(q * (ratios.length - 1))] ?? 0).toFixed(3);
  console.log(`${row.name.padEnd(36)} after/before median ${pick(0.5)}  (quartiles ${pick(0.25)}–${pick(0.75)})`);
  for (const k of /** @type {const} */ (['before', 'after'])) await subjects[k].stop();
}
