/**
 * Measure 5's child: a runtime host with 10 nodes and the http + local handlers (and,
 * with `--db`, a db handler on in-memory PGlite), fed 1,000 envelopes through the
 * in-memory bus. Prints `{ rss, heapUsed, external }` after forcing GC (run it with
 * --expose-gc). Each configuration gets its own fresh process so nothing else counts.
 */
import { ComputeNode, EffectNode } from '@onex/core';
import { startHost } from '../lib/onex.mjs';

const withDb = process.argv.includes('--db');
const ENVELOPES = 1_000;
const CONCURRENCY = 16;

const nodes = [
  ...Array.from({ length: 5 }, (_, i) => new ComputeNode({ slug: `compute-${i}`, compute: (input) => input })),
  ...Array.from({ length: 5 }, (_, i) => new EffectNode({ slug: `effect-${i}`, operations: ['local.echo', 'http.get', ...(withDb ? ['db.query'] : [])] })),
];
const handlers = [
  { type: 'http', config: {} },
  { type: 'local', config: {} },
  ...(withDb ? [{ type: 'db', config: { url: 'pglite://memory' } }] : []),
];

const onex = await startHost({ maxInFlight: CONCURRENCY, nodes, handlers });
// Traffic over all ten nodes; with --db, every other effect node runs a query on PGlite.
const calls = [
  ...Array.from({ length: 5 }, (_, i) => onex.client({ targetNode: `compute-${i}`, operation: 'bench.echo' })),
  ...Array.from({ length: 5 }, (_, i) =>
    withDb && i % 2 === 1
      ? onex.client({ targetNode: `effect-${i}`, operation: 'db.query', payload: (n) => ({ sql: 'select $1::int as n', parameters: [n] }) })
      : onex.client({ targetNode: `effect-${i}`, operation: 'local.echo' }),
  ),
];
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < ENVELOPES; i = next++) await /** @type {(i: number) => Promise<unknown>} */ (calls[i % calls.length])(i);
  }),
);
onex.assertHealthy();

for (let i = 0; i < 3; i += 1) {
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const usage = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, gc: typeof globalThis.gc === 'function' })}\n`);
await onex.stop();
