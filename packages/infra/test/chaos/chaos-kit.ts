/**
 * Shared pieces of the chaos tests: a host built from a contract text as a deployment ships
 * it (in-memory bus, real handlers, handler contracts on disk), its real ingress on a free
 * port, envelopes over HTTP, a /metrics scrape, and a bounded wait for a condition.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EffectNode, parseRuntimeHostContract } from '@onex/core';
import parsePrometheusTextFormat, { type PrometheusMetricFamily } from 'parse-prometheus-text-format';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { startIngressServer, type IngressServer } from '../../src/runtime/ingress-server.js';
import { dbHandlerContract, loopbackHttpHandlerContract, writeHandlerContractDir } from '../helpers/handler-contract-dir.js';
import type { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';

export { eventually } from '../security/db-security-kit.js';

/** The node every chaos host serves: it may read and write through db and call http. */
export const NODE = 'chaos';

/** Handler contracts as a deployment ships them: db and http, the http one allowed 127.0.0.1. */
const writeHandlerContracts = (): Promise<string> =>
  writeHandlerContractDir('onex-chaos-', { db: dbHandlerContract(['db.query', 'db.execute', 'db.transaction'], 'env://ONEX_CHAOS_*'), http: loopbackHttpHandlerContract });

export interface ChaosHost {
  readonly host: RuntimeHostProcess;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Builds and starts a host from the `handlers:` lines of a contract (indented as list items
 * under `runtime.handlers`) and serves its ingress on 127.0.0.1, port 0. `env` feeds the
 * contract's `${ONEX_CHAOS_*}` placeholders.
 */
export async function startChaosHost(handlerLines: readonly string[], env: Record<string, string> = {}, runtimeLines: readonly string[] = []): Promise<ChaosHost> {
  const contractDir = await writeHandlerContracts();
  const { contract } = parseRuntimeHostContract(
    ['runtime:', '  name: "chaos"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"', ...runtimeLines, '  handlers:', ...handlerLines, '  nodes:', `    - slug: "${NODE}"`].join('\n'),
    { source: 'chaos.yaml', catalog: HANDLER_CATALOG },
  );
  const host = await createRuntimeHostFromContract({
    contract,
    contractDir,
    env,
    nodes: [
      new EffectNode({
        slug: NODE,
        operations: ['db.query', 'db.execute', 'db.transaction', 'http.get'],
        access: { 'db.execute': 'read_write', 'db.transaction': 'read_write' },
      }),
    ],
  });
  let server: IngressServer | undefined;
  try {
    await host.start();
    server = await startIngressServer(host, { port: 0 });
  } catch (error) {
    await host.stop();
    await rm(contractDir, { recursive: true, force: true });
    throw error;
  }
  const ingress = server;
  return {
    host,
    url: ingress.url,
    close: async () => {
      await ingress.close();
      await host.stop();
      await rm(contractDir, { recursive: true, force: true });
    },
  };
}

/** The response envelope of one envelope sent through `POST /v1/envelopes`, in wire form. */
export interface WireAnswer {
  readonly success: boolean;
  readonly payload?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string; readonly retryable?: boolean; readonly [key: string]: unknown };
}

/** Sends `{ target_node, operation, payload, ...extra }` through the ingress and returns its answer. */
export async function send(url: string, operation: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<WireAnswer> {
  const res = await fetch(`${url}/v1/envelopes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ target_node: NODE, operation, payload, ...extra }),
  });
  return (await res.json()) as WireAnswer;
}

export async function scrape(url: string): Promise<PrometheusMetricFamily[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parsePrometheusTextFormat(await res.text());
}

/** The value of the sample of `name` whose labels include `labels` (undefined when none). */
export function metricValue(families: PrometheusMetricFamily[], name: string, labels: Record<string, string>): number | undefined {
  const sample = families
    .find((f) => f.name === name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (sample === undefined) return undefined;
  return Number('value' in sample ? sample.value : sample.count);
}

const SERVICES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../tooling/services');

/** Runs `bash tooling/services/<script> <args>` with `env` added; rejects on a non-zero exit. */
export async function service(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [path.join(SERVICES, script), ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
  return stdout;
}
