/**
 * One host configuration of the policy-stack measure, alone in its process:
 *
 *   node --expose-gc policy-host.mjs '{"variant":"full","concurrency":1,"warmupMs":400,"budgetMs":700}'
 *
 * prints one JSON line: without `iterations`, how many calls fit in `budgetMs` once warm
 * (`{ iterations }`); with it, that many calls measured after the same warm-up
 * (`{ result, lines }`, `lines` = log lines written while measured).
 *
 * Why a process per configuration: hosts that share a process share V8's type feedback.
 * The wrapped and the bare handler chains then meet at the same call sites, which turn
 * polymorphic, and the measured difference moved by ±30 % with the order the hosts were
 * built in (docs/benchmarks.md, "Policy and observability stack"). A deployed host runs
 * one configuration per process, which is what this measures.
 */
import fs from 'node:fs';
import { RUNTIME_HOST_DEFAULTS } from '@onex/core';
import { createLogger } from '@onex/infra';
import { closedLoop, collect, warmUpAndSize } from '../lib/drive.mjs';
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

/** @param {string} variant @param {number} concurrency @param {{ write(line: string): void }} sink */
async function build(variant, concurrency, sink) {
  const handlers = (/** @type {import('@onex/core').HandlerPolicies | undefined} */ policies) => [{ type: 'local', config: {}, ...(policies ? { policies } : {}) }];
  switch (variant) {
    case 'full': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(FULL_POLICIES), metrics: METRICS_ON, logger: createLogger({ level: 'info', destination: sink }) });
      return { host, call: host.client({ ...CALL, ttlSeconds: TTL_SECONDS }) };
    }
    case 'bare': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(undefined), metrics: METRICS_OFF });
      return { host, call: host.client(CALL) };
    }
    case 'timeout': {
      const host = await startHost({ maxInFlight: concurrency, handlers: handlers(TIMEOUT_ONLY), metrics: METRICS_OFF });
      return { host, call: host.client(CALL) };
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

const { variant, concurrency, warmupMs, budgetMs, iterations } = JSON.parse(process.argv[2] ?? '{}');
const sink = devNullSink();
const { host, call } = await build(variant, concurrency, sink);
try {
  // Two warm-ups, as measureAll does in one process.
  await warmUpAndSize(call, { concurrency, warmupMs, budgetMs });
  const sized = await warmUpAndSize(call, { concurrency, warmupMs, budgetMs });
  if (iterations === undefined) {
    process.stdout.write(`${JSON.stringify({ iterations: sized })}\n`);
  } else {
    collect();
    const linesAtStart = sink.lines;
    const result = await closedLoop(call, { concurrency, iterations });
    host.assertHealthy();
    process.stdout.write(`${JSON.stringify({ result, lines: sink.lines - linesAtStart })}\n`);
  }
} finally {
  await host.stop();
}
