/**
 * `pnpm bench`: runs every measure and prints ONE table, each ONEX figure next to its
 * baseline from this same run and the ratio between them, plus the machine it ran on.
 *
 *   node --expose-gc src/run.mjs [--only=direct,handlers,bus,effect,policies,nodes,rss,vault,consul,secrets,kafka] [--reps=3]
 *   node src/run.mjs --help
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { busMeasures, effectMeasures } from './measures/bus.mjs';
import { directMeasures } from './measures/direct.mjs';
import { PG_URL, handlerMeasures, pgTarget } from './measures/handlers.mjs';
import { KAFKA_BROKERS, kafkaMeasures } from './measures/kafka.mjs';
import { nodeMeasures } from './measures/nodes.mjs';
import { policyMeasures } from './measures/policies.mjs';
import { rssMeasures } from './measures/rss.mjs';
import { consulMeasures, consulTarget, openbaoTarget, secretResolverMeasures, vaultMeasures } from './measures/secrets.mjs';
import { MOLECULER_VERSION } from './lib/moleculer.mjs';
import { renderTable } from './lib/table.mjs';

/** @type {Map<string, string>} */
const args = new Map();
for (const arg of process.argv.slice(2)) {
  const [key = '', value = ''] = arg.replace(/^--/, '').split('=', 2);
  if (key) args.set(key, value);
}
const only = args.get('only') ? new Set((args.get('only') ?? '').split(',')) : undefined;
const reps = Number(args.get('reps') || 3);
const timing = { reps, warmupMs: 400, budgetMs: 700 };

/** @type {[string, () => Promise<import('./lib/table.mjs').Row[]>][]} */
const measures = [
  // `effect` last: it is the only measure that runs a handler behind the no-publish guard.
  ['direct', () => directMeasures(timing)],
  ['handlers', () => handlerMeasures(timing)],
  ['bus', () => busMeasures(timing)],
  ['effect', () => effectMeasures(timing)],
  // Issue 9: the same round trip with the policy and observability stack on and off.
  ['policies', () => policyMeasures(timing)],
  // Issue 16: a user node module against the same code built in; contract models enforced or not.
  ['nodes', () => nodeMeasures(timing)],
  ['rss', () => rssMeasures({ reps })],
  // Real OpenBao and Consul servers (issue 8); rows say "skipped" without them.
  ['vault', () => vaultMeasures(timing)],
  ['consul', () => consulMeasures(timing)],
  ['secrets', () => secretResolverMeasures(timing)],
  // Last: it loads kafkajs and opens broker connections in this process; its subjects run in child processes.
  ['kafka', () => kafkaMeasures({ reps })],
];

const names = measures.map(([name]) => name);
if (args.has('help')) {
  console.log(`usage: node --expose-gc src/run.mjs [--only=${names.join(',')}] [--reps=3]\n\nRuns the measures (all, or those --only names) and prints one table; bench/README.md says what each needs.`);
  process.exit(0);
}
const unknown = [...(only ?? [])].filter((name) => !names.includes(name));
if (unknown.length > 0) {
  console.error(`unknown measure ${unknown.join(', ')}: choose from ${names.join(', ')}`);
  process.exit(2);
}

const cpus = os.cpus();
const machine = [
  `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  `runtime: Node ${process.version} (${process.platform}/${process.arch}), Moleculer ${MOLECULER_VERSION}, GC between runs: ${typeof globalThis.gc === 'function' ? 'yes' : 'no (run with --expose-gc)'}`,
  `services: PostgreSQL ${pgTarget(PG_URL)}${process.env.ONEX_PG_URL ? ' (from ONEX_PG_URL)' : ' (set ONEX_PG_URL to change)'}; Kafka ${KAFKA_BROKERS}${process.env.ONEX_KAFKA_BROKERS ? ' (from ONEX_KAFKA_BROKERS)' : ' (set ONEX_KAFKA_BROKERS to change)'}; OpenBao ${openbaoTarget()}${process.env.ONEX_OPENBAO_ADDR ? ' (from ONEX_OPENBAO_ADDR)' : ' (set ONEX_OPENBAO_ADDR to change)'}; Consul ${consulTarget()}${process.env.CONSUL_HTTP_ADDR ? ' (from CONSUL_HTTP_ADDR)' : ' (set CONSUL_HTTP_ADDR to change)'}; HTTP server in a child process on 127.0.0.1`,
  `date: ${new Date().toISOString()}`,
  `method: closed-loop workers; warm-up ${timing.warmupMs} ms then a fixed iteration count sized to ~${timing.budgetMs} ms; median of ${reps} repetitions, subject and baseline alternating`,
];
console.log(machine.join('\n'));
console.log('');

const started = performance.now();
/** @type {import('./lib/table.mjs').Row[]} */
const rows = [];
for (const [name, measure] of measures) {
  if (only && !only.has(name)) continue;
  const t0 = performance.now();
  process.stderr.write(`running ${name} … `);
  try {
    rows.push(...(await measure()));
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    // One broken measure (a server restarted under us) must not hide the others.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`failed: ${message}\n`);
    rows.push({ measure: name, conc: '–', subject: '–', subjectValue: '–', subjectLatency: '–', baseline: '–', baselineValue: '–', baselineLatency: '–', ratio: '–', target: '–', verdict: `ERROR: ${message.slice(0, 120)}` });
  }
}
console.log(renderTable(rows));
console.log('');
console.log('No-op node: a ComputeNode whose compute returns its input (judged rows); the EffectNode → local.echo row is for information.');
console.log('Ratio: ONEX throughput / baseline throughput, except handler rows (time overhead = raw ops/s ÷ handler ops/s − 1) and RSS rows (RSS − bare RSS).');
console.log('HTTP server: a child process (its own event loop). Latencies: p50 / p99 per call, or mean where per-call timing would distort the result.');
const failed = rows.filter((r) => r.verdict === 'FAIL').length;
const count = (/** @type {(v: string) => boolean} */ test) => rows.filter((r) => test(r.verdict)).length;
console.log(`targets: ${count((v) => v === 'PASS')} passed, ${failed} failed, ${count((v) => v.startsWith('skipped'))} skipped, ${count((v) => v.startsWith('ERROR'))} errored; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
