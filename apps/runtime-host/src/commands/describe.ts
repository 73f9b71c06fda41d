import { formatIssue, type EventBusConfig } from '@onex/core';
import { fieldsOf, findHandlerUnit, type HandlerUnit } from '@onex/infra';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { loadRuntime } from '../load-runtime.js';
import type { Output } from './validate.js';

/** The wiring a contract produces: bus and topics, handlers with their operations, nodes. */
export async function describeWiring(file: string, options: { dev: boolean; production?: boolean }) {
  const loaded = await loadRuntime(file, { allowDevHandlers: options.dev, production: options.production ?? false });
  if (!loaded.ok) return { ok: false as const, issues: loaded.issues };
  const descriptors = await loaded.handlerSource.discoverHandlers();
  const r = loaded.contract.runtime;
  return {
    ok: true as const,
    wiring: {
      runtime: { name: r.name, version: r.version, max_in_flight: r.maxInFlight, drain_timeout_ms: r.drainTimeoutMs },
      event_bus: eventBusWiring(r.eventBus),
      idempotency: { store: r.idempotency.store, ttl_ms: r.idempotency.ttlMs, lease_ms: r.idempotency.leaseMs, on_interrupted: r.idempotency.onInterrupted, ...(r.idempotency.store === 'memory' ? { max_entries: r.idempotency.maxEntries } : {}) },
      handler_source: { mode: r.handlerSource.mode, contract_paths: [...r.handlerSource.contractPaths] },
      ingress: r.ingress.enabled ? { url: `http://${r.ingress.host}:${r.ingress.port}`, request_timeout_ms: r.ingress.requestTimeoutMs } : null,
      handlers: r.handlers.filter((h) => h.enabled).flatMap((h) => {
        // Validation accepted only registered types, so every enabled binding has a unit.
        const unit = findHandlerUnit(h.type);
        if (!unit) return [];
        // The handler source says who provides it (a handler contract narrows what it accepts).
        const d = descriptors.find((x) => x.handlerType === h.type);
        const wiring = handlerWiring(h.name, unit);
        const accepted = d === undefined ? undefined : new Set(d.commandsAccepted);
        return [{ ...wiring, handler: d?.handlerName ?? null, handler_contract: d?.source ?? null, operations: accepted ? wiring.operations.filter((op) => accepted.has(op.name)) : wiring.operations }];
      }),
      nodes: loaded.nodes.map((n) => {
        const d = n.describe();
        const code = loaded.modules.filter((m) => m.node === d.slug).map((m) => ({ at: m.at, module: m.module, file: m.file, export: m.export, sha256: m.sha256, pinned: m.pinned }));
        return { slug: d.slug, kind: d.kind, operations: [...d.allowedOperations], description: d.description ?? null, code };
      }),
    },
  };
}

/** A handler as `describe` shows it, all from its unit: operations, payload fields, response shape. */
export function handlerWiring(name: string, unit: HandlerUnit) {
  return {
    type: unit.type,
    name,
    version: unit.version,
    category: unit.category,
    dev_only: unit.devOnly,
    operations: unit.operations.map((op) => ({
      name: op.name,
      summary: op.summary,
      payload_fields: fieldsOf(op.payloadSchema).map((f) => ({ name: f.name, type: f.type, required: f.required })),
      response_shape: op.responseShape,
    })),
  };
}

/** The bus section: every setting the bus runs with, defaults filled in (brokers as written: placeholders are not expanded here). */
function eventBusWiring(bus: EventBusConfig) {
  const topics = { input_topic: bus.topics.input, output_topic: bus.topics.output };
  if (bus.kind === 'inmemory') return { kind: bus.kind, ...topics, max_queue_size: bus.maxQueueSize };
  const k = bus.kafka;
  return {
    kind: bus.kind,
    ...topics,
    dead_letter_topic: bus.topics.deadLetter,
    bootstrap_servers: [...bus.bootstrapServers],
    consumer_group: bus.consumerGroup,
    client_id: bus.clientId,
    delivery: k.delivery,
    max_inflight_envelopes: k.maxInflightEnvelopes,
    pause_consumption_threshold: k.pauseConsumptionThreshold,
    commit_interval_ms: k.commitIntervalMs,
    session_timeout_ms: k.sessionTimeoutMs,
    heartbeat_interval_ms: k.heartbeatIntervalMs,
    rebalance_timeout_ms: k.rebalanceTimeoutMs,
    stall_timeout_ms: k.stallTimeoutMs,
    connection_timeout_ms: k.connectionTimeoutMs,
    request_timeout_ms: k.requestTimeoutMs,
    auto_offset_reset: k.autoOffsetReset,
    output_key: k.outputKey,
  };
}

export async function describeCommand(file: string, options: { dev: boolean; json: boolean; production?: boolean }, io: Output): Promise<ExitCode> {
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
  if (w.event_bus.kind === 'kafka' && 'consumer_group' in w.event_bus) {
    const b = w.event_bus;
    io.out(`  dead letters: ${b.dead_letter_topic}  brokers: ${b.bootstrap_servers.join(',')}  group: ${b.consumer_group}  client: ${b.client_id}`);
    io.out(`  delivery: ${b.delivery}  max_inflight_envelopes: ${b.max_inflight_envelopes}  pause at: ${b.pause_consumption_threshold}  commit every: ${b.commit_interval_ms} ms`);
    io.out(`  session: ${b.session_timeout_ms} ms  heartbeat: ${b.heartbeat_interval_ms} ms  stall: ${b.stall_timeout_ms} ms  offset reset: ${b.auto_offset_reset}  output key: ${b.output_key}`);
  }
  io.out(`idempotency: ${w.idempotency.store} (ttl ${w.idempotency.ttl_ms} ms, lease ${w.idempotency.lease_ms} ms, on_interrupted ${w.idempotency.on_interrupted})`);
  io.out(`ingress: ${w.ingress ? w.ingress.url : 'disabled'}`);
  io.out('handlers:');
  for (const h of w.handlers) {
    io.out(`  - ${h.type} (${h.category}${h.dev_only ? ', dev only' : ''}) ${h.version}${h.name !== h.type ? ` as "${h.name}"` : ''}`);
    for (const op of h.operations) {
      const fields = op.payload_fields.map((f) => `${f.name}${f.required ? '' : '?'}: ${f.type}`).join(', ');
      io.out(`      ${op.name}(${fields || 'any JSON'}) → ${op.response_shape}`);
    }
  }
  io.out('nodes:');
  for (const n of w.nodes) {
    io.out(`  - ${n.slug} [${n.kind}]${n.operations.length ? `: ${n.operations.join(', ')}` : ''}`);
    for (const c of n.code) io.out(`      code: ${c.file}#${c.export}  sha256 ${c.sha256}${c.pinned ? ' (pinned)' : ' (not pinned)'}${c.at === 'implementation' ? '' : `  for ${c.at}`}`);
  }
  return EXIT.OK;
}
