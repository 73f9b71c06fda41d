/**
 * One benchmark subject alone in its process:
 *
 *   node --expose-gc subject.mjs '{"subject":"policy-full","concurrency":1,"warmupMs":400,"budgetMs":700}'
 *
 * prints one JSON line: without `iterations`, how many calls fit in `budgetMs` once warm
 * (`{ iterations }`); with it, that many calls measured after the same warm-up
 * (`{ result, lines }`, `lines` = log lines written while measured, where a subject logs).
 * Driven by lib/isolated.mjs.
 *
 * Why a process per subject: subjects that share a process share V8's type feedback and
 * its heap. Different handler chains meet at the same call sites, which turn polymorphic,
 * and one subject's garbage is collected on another's time: the policy-stack ratio moved by
 * ±30 % with the order the hosts were built in, and a host that ran 184–220k envelopes/s
 * alone ran 91k/s next to the Moleculer brokers (docs/benchmarks.md). A deployed host, and
 * a deployed Moleculer service, runs alone in its process, which is what this measures.
 */
import fs from 'node:fs';
import { RUNTIME_HOST_DEFAULTS } from '@onex/core';
import { createLogger } from '@onex/infra';
import { closedLoop, warmUpAndSize } from '../lib/drive.mjs';
import { startHost } from '../lib/onex.mjs';

const CALL = { targetNode: 'echo-effect', operation: 'local.echo' };
const TTL_SECONDS = 60;

/** @type {import('@onex/core').HandlerPolicies} */
const FULL_POLICIES = Object.freeze({
  timeoutMs: 5_000,
  retryPolicy: RUNTIME_HOST_DEFAULTS.retryPolicy,
  // Ten million per second with a burst of a million: never the limit in a closed loop.
  rateLimit: { perSecond: 10_000_000, burst: 1_000_000 },
  circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker,
  bulkhead: { maxConcurrent: 1_024, maxQueue: 0 },
});

/** @type {import('@onex/core').HandlerPolicies} */
const TIMEOUT_ONLY = Object.freeze({
  timeoutMs: RUNTIME_HOST_DEFAULTS.handlerTimeoutMs,
  retryPolicy: undefined,
  rateLimit: undefined,
  circuitBreaker: { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, enabled: false },
  bulkhead: undefined,
});

const METRICS_ON = { enabled: true, defaultMetrics: true };
const METRICS_OFF = { enabled: false, defaultMetrics: false };

/** A pino destination that costs what a file does (one write(2) per line) and counts the lines. */
function devNullSink() {
  const fd = fs.openSync('/dev/null', 'w');
  const sink = {
    lines: 0,
    /** @param {string} line */
    write(line) {
      sink.lines += 1;
      fs.writeSync(fd, line);
    },
  };
  return sink;
}

/**
 * The subjects: `policy-*` for the policy-stack measure (measures/policies.mjs says what each
 * is), `bus-*` and `moleculer` for the bus measures (measures/bus.mjs), and the nodes built
 * from contracts of measures/nodes.mjs (`node-*`, `model-*`: lib/contract-nodes.mjs).
 * @param {string} subject @param {number} concurrency @param {{ write(line: string): void }} sink
 * @returns {Promise<{ call: (i: number) => Promise<unknown>, assertHealthy: () => void, stop: () => Promise<void> }>}
 */
async function build(subject, concurrency, sink) {
  const handlers = (/** @type {import('@onex/core').HandlerPolicies | undefined} */ policies) => [{ type: 'local', config: {}, ...(policies ? { policies } : {}) }];
  /** @param {Awaited<ReturnType<typeof startHost>>} host @param {(i: number) => Promise<unknown>} call */
  const hosted = (host, call) => ({ call, assertHealthy: () => host.assertHealthy(), stop: () => host.stop() });
  switch (subject) {
    case 'policy-full': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(FULL_POLICIES), metrics: METRICS_ON, logger: createLogger({ level: 'info', destination: sink }) });
      return hosted(host, host.client({ ...CALL, ttlSeconds: TTL_SECONDS }));
    }
    case 'policy-bare': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(undefined), metrics: METRICS_OFF });
      return hosted(host, host.client(CALL));
    }
    case 'policy-timeout': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(TIMEOUT_ONLY), metrics: METRICS_OFF });
      return hosted(host, host.client(CALL));
    }
    // The bus rows: hosts as an embedding application builds them (metrics on by default).
    case 'bus-compute': {
      const host = await startHost({ maxInFlight: concurrency });
      return hosted(host, host.client({ targetNode: 'echo', operation: 'bench.echo' }));
    }
    case 'bus-wire': {
      const host = await startHost({ maxInFlight: concurrency, wire: true });
      return hosted(host, host.client({ targetNode: 'echo', operation: 'bench.echo', wire: true }));
    }
    case 'bus-effect': {
      const host = await startHost({ maxInFlight: concurrency });
      return hosted(host, host.client({ targetNode: 'echo-effect', operation: 'local.echo' }));
    }
    case 'moleculer': {
      // Loaded only here: a process that has merely imported moleculer ran the ONEX host at
      // concurrency 64 at half its speed (82k vs 154k envelopes/s, repeatably; cause not
      // found: it changes no Promise or Error global), so ONEX subjects never load it.
      const { startRemotePair } = await import('../lib/moleculer.mjs');
      const pair = await startRemotePair();
      return { call: pair.call, assertHealthy: () => undefined, stop: pair.stop };
    }
    default: {
      // Loaded only for its own subjects, so the other subjects' processes hold what they did before.
      const { NODE_SUBJECTS, startNodeSubject } = await import('../lib/contract-nodes.mjs');
      if (!Object.hasOwn(NODE_SUBJECTS, subject)) throw new Error(`unknown subject ${subject}`);
      const { host, call } = await startNodeSubject(subject, concurrency);
      return hosted(host, call);
    }
  }
}

const { subject, concurrency, warmupMs, budgetMs, iterations } = JSON.parse(process.argv[2] ?? '{}');
const sink = devNullSink();
const built = await build(subject, concurrency, sink);
try {
  // Two warm-ups, as measureAll does in one process.
  await warmUpAndSize(built.call, { concurrency, warmupMs, budgetMs });
  const sized = await warmUpAndSize(built.call, { concurrency, warmupMs, budgetMs });
  if (iterations === undefined) {
    process.stdout.write(`${JSON.stringify({ iterations: sized })}\n`);
  } else {
    // No forced GC before the timed run. After `gc()` the ONEX host at concurrency 64 ran at
    // about half its speed for the rest of the process (84k vs 142k envelopes/s over 400,000
    // calls), while other subjects were unaffected or helped: it measured V8's reaction to a
    // forced collection, not the subject. A fresh process holds only its warm-up's garbage.
    const linesAtStart = sink.lines;
    const result = await closedLoop(built.call, { concurrency, iterations });
    built.assertHealthy();
    process.stdout.write(`${JSON.stringify({ result, lines: sink.lines - linesAtStart })}\n`);
  }
} finally {
  await built.stop();
}
