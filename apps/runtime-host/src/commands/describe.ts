import { formatIssue } from '@onex/core';
import { HandlerBootstrapSource } from '@onex/infra';
import { BUILTIN_IMPLEMENTATIONS } from '../builtin-nodes.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { buildNodes, loadRuntime } from '../load-runtime.js';
import type { Output } from './validate.js';

/** The wiring a contract produces: bus and topics, handlers with their operations, nodes. */
export async function describeWiring(file: string, options: { dev: boolean }) {
  const loaded = await loadRuntime(file, { allowDevHandlers: options.dev });
  if (!loaded.ok) return { ok: false as const, issues: loaded.issues };
  const built = buildNodes(loaded.nodes, BUILTIN_IMPLEMENTATIONS);
  if (built.issues.length > 0) return { ok: false as const, issues: built.issues };
  const descriptors = await new HandlerBootstrapSource({ includeDevHandlers: options.dev }).discoverHandlers();
  const r = loaded.contract.runtime;
  return {
    ok: true as const,
    wiring: {
      runtime: { name: r.name, version: r.version, max_in_flight: r.maxInFlight, drain_timeout_ms: r.drainTimeoutMs },
      event_bus: { kind: r.eventBus.kind, input_topic: r.eventBus.topics.input, output_topic: r.eventBus.topics.output, max_queue_size: r.eventBus.maxQueueSize },
      ingress: r.ingress.enabled ? { url: `http://${r.ingress.host}:${r.ingress.port}`, request_timeout_ms: r.ingress.requestTimeoutMs } : null,
      handlers: r.handlers.filter((h) => h.enabled).map((h) => {
        const d = descriptors.find((x) => x.handlerType === h.type);
        return { type: h.type, name: h.name, category: d?.category ?? null, operations: d ? [...d.commandsAccepted] : [] };
      }),
      nodes: built.nodes.map((n) => {
        const d = n.describe();
        return { slug: d.slug, kind: d.kind, operations: [...d.allowedOperations], description: d.description ?? null };
      }),
    },
  };
}

export async function describeCommand(file: string, options: { dev: boolean; json: boolean }, io: Output): Promise<ExitCode> {
  const result = await describeWiring(file, options);
  if (!result.ok) {
    for (const issue of result.issues) io.err(formatIssue(issue));
    return EXIT.CONTRACT_INVALID;
  }
  const w = result.wiring;
  if (options.json) {
    io.out(JSON.stringify(w, null, 2));
    return EXIT.OK;
  }
  io.out(`runtime ${w.runtime.name} ${w.runtime.version} (max_in_flight ${w.runtime.max_in_flight}, drain ${w.runtime.drain_timeout_ms} ms)`);
  io.out(`event bus: ${w.event_bus.kind}  in: ${w.event_bus.input_topic}  out: ${w.event_bus.output_topic}`);
  io.out(`ingress: ${w.ingress ? w.ingress.url : 'disabled'}`);
  io.out('handlers:');
  for (const h of w.handlers) io.out(`  - ${h.type} (${h.category ?? '?'}): ${h.operations.join(', ')}`);
  io.out('nodes:');
  for (const n of w.nodes) io.out(`  - ${n.slug} [${n.kind}]${n.operations.length ? `: ${n.operations.join(', ')}` : ''}`);
  return EXIT.OK;
}
