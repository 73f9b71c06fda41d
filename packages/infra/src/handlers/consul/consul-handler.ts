/**
 * ConsulHandler: the `consul` protocol handler. Service discovery and KV against one
 * Consul agent through the `consul` package.
 *
 * Operations and response payloads:
 * - `consul.register_service` `{ name, id?, tags?, address?, port?, meta?, check? }` → `{ service_id }`
 * - `consul.deregister_service` `{ service_id }` → `{ service_id, deregistered }` (false: the agent did not know it)
 * - `consul.get_service` `{ name, tag?, passing_only? }` → `{ found, instances: [{ id, node, address, port, tags, meta, status }] }`
 * - `consul.list_services` `{}` → `{ services: { <name>: tags[] } }`
 * - `consul.health_check_service` `{ name }` → `{ status, checks: [{ check_id, name, node, service_id, status, output }] }`
 * - `consul.kv_get` `{ key }` → `{ found, value, modify_index }`
 * - `consul.kv_put` `{ key, value, cas? }` → `{ written }`; a CAS mismatch is `written: false`, not an error
 * - `consul.kv_delete` `{ key, recurse? }` → `{ deleted }` (Consul answers true for a missing key too)
 *
 * Status rule: a check set's status is its worst check (critical > warning > passing);
 * an instance without checks is passing (as Consul's own `passing` filter treats it); a
 * service without instances is `unknown`. An instance's status includes its node's checks.
 *
 * Confinement (consul-scope.ts): KV keys under `kvPrefixes` only; register/deregister for
 * names and ids under `servicePrefixes` only; HTTP checks probe the service's own address
 * or `checkHosts`; writes need `read_write` access. Refusals are InvalidOperationError.
 *
 * Error modes: bad payload → ENVELOPE_VALIDATION_ERROR; Consul and connection failures →
 * typed errors (consul-errors.ts); a cancelled call → the signal's reason, else
 * InfraTimeoutError; after shutdown → SHUTTING_DOWN.
 */
import {
  HandlerExecutionError,
  InvalidOperationError,
  type ShuttingDownError,
  type ErrorContext,
  type HandlerInvocationContext,
  type JsonValue,
  type OnexEnvelope,
} from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { ConsulAgentClient, isNotFound, type ConsulCallOptions, type ConsulCheck, type ConsulHealthEntry } from './consul-client.js';
import { CONSUL_HEALTH_CHECK_TIMEOUT_MS, parseConsulAddress, parseConsulHandlerConfig, type ConsulHandlerConfig, type ResolvedConsulHandlerConfig } from './consul-config.js';
import { cancelledConsulError, mapConsulError, type ConsulCallContext } from './consul-errors.js';
import {
  CONSUL_OPERATIONS,
  deregisterServicePayloadSchema,
  getServicePayloadSchema,
  healthCheckServicePayloadSchema,
  kvDeletePayloadSchema,
  kvGetPayloadSchema,
  kvPutPayloadSchema,
  listServicesPayloadSchema,
  parseConsulPayload,
  registerServicePayloadSchema,
  type CheckSummary,
  type ConsulHealthStatus,
  type DeregisterServiceResponse,
  type GetServiceResponse,
  type HealthCheckServiceResponse,
  type KvDeleteResponse,
  type KvGetResponse,
  type KvPutResponse,
  type ListServicesResponse,
  type RegisterServiceResponse,
  type ServiceInstance,
} from './consul-payload.js';
import { checkAccess, checkHttpCheckHost, checkKvKey, checkServiceName, type ConsulScope } from './consul-scope.js';
import { handlerShutDownError, initializeAgainError } from '../handler-state-errors.js';

export const CONSUL_HANDLER_VERSION = '0.1.0';
/** Longest check output a response carries. */
const MAX_CHECK_OUTPUT = 1024;

export interface ConsulHandlerOptions {
  /** @default silentLogger */
  readonly logger?: Logger;
}

/** `created → ready → shutdown`; a failed initialize leaves `failed` (retryable). */
export type ConsulHandlerState = 'created' | 'ready' | 'failed' | 'shutdown';

interface Ready {
  readonly client: ConsulAgentClient;
  readonly config: ResolvedConsulHandlerConfig;
  readonly target: string;
  readonly scope: ConsulScope;
}

export class ConsulHandler implements ProtocolHandler<ConsulHandlerConfig> {
  readonly handlerType = 'consul' as const;
  readonly #logger: Logger;
  #state: ConsulHandlerState = 'created';
  #ready: Ready | undefined;

  constructor(options: ConsulHandlerOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  get state(): ConsulHandlerState {
    return this.#state;
  }

  /**
   * Validates `config`, opens the client and proves the agent answers (`/v1/status/leader`).
   * @throws HandlerConfigurationError for a bad config or a second call; Infra* errors when the agent cannot be reached.
   */
  async initialize(config: ConsulHandlerConfig): Promise<void> {
    if (this.#state !== 'created' && this.#state !== 'failed') {
      throw initializeAgainError('ConsulHandler', 'consul', this.#state, 'another agent');
    }
    const resolved = parseConsulHandlerConfig(config);
    // The schema checked that it parses.
    const address = parseConsulAddress(resolved.address) as NonNullable<ReturnType<typeof parseConsulAddress>>;
    const client = new ConsulAgentClient(address, { token: resolved.token, datacenter: resolved.datacenter });
    const ctx: ConsulCallContext = { operation: 'initialize', correlationId: undefined, target: address.target, timeoutMs: resolved.timeoutMs, token: resolved.token };
    try {
      await client.leader({ timeoutMs: resolved.timeoutMs });
    } catch (error) {
      client.close();
      this.#state = 'failed';
      throw mapConsulError(error, ctx);
    }
    if (this.#state !== 'created' && this.#state !== 'failed') {
      client.close();
      throw shuttingDown({ handlerType: 'consul', operation: 'initialize' });
    }
    this.#ready = {
      client,
      config: resolved,
      target: address.target,
      scope: { kvPrefixes: resolved.kvPrefixes, servicePrefixes: resolved.servicePrefixes, checkHosts: resolved.checkHosts },
    };
    this.#state = 'ready';
    this.#logger.info(
      { handler_type: 'consul', target: address.target, kv_prefixes: resolved.kvPrefixes, service_prefixes: resolved.servicePrefixes, token: resolved.token === undefined ? 'none' : 'set' },
      'consul handler ready',
    );
  }

  /**
   * Runs one envelope. Resolves to the operation's response payload.
   * @throws see the module header for the error modes.
   */
  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    const errorContext: ErrorContext = { correlationId: context.correlationId ?? envelope.correlationId, operation: envelope.operation, handlerType: 'consul' };
    if (this.#state === 'shutdown') throw shuttingDown(errorContext);
    const ready = this.#ready;
    if (this.#state !== 'ready' || ready === undefined) {
      throw new HandlerExecutionError(`ConsulHandler is not initialized (state: ${this.#state})`, {
        ...errorContext,
        hint: 'The runtime host must call initialize(config) and wait for it before routing envelopes.',
      });
    }
    if (!(CONSUL_OPERATIONS as readonly string[]).includes(envelope.operation)) {
      throw new InvalidOperationError(`Operation '${envelope.operation}' is not supported by the consul handler. Available: ${CONSUL_OPERATIONS.join(', ')}`, {
        ...errorContext,
        details: { supported_operations: [...CONSUL_OPERATIONS] },
        hint: 'Use one of the supported operations.',
      });
    }
    checkAccess(envelope.operation, context.access, context.nodeSlug, errorContext);
    const ctx: ConsulCallContext = { operation: envelope.operation, correlationId: errorContext.correlationId, target: ready.target, timeoutMs: ready.config.timeoutMs, token: ready.config.token };
    const signal = context.signal;
    if (signal?.aborted === true) throw cancelledConsulError(ctx, signal.reason);
    const call: ConsulCallOptions = { timeoutMs: ready.config.timeoutMs, signal };
    try {
      return await this.#run(envelope, ready, call, errorContext);
    } catch (error) {
      if (isAborted(signal)) throw cancelledConsulError(ctx, signal?.reason);
      throw mapConsulError(error, ctx);
    }
  }

  async #run(envelope: OnexEnvelope, ready: Ready, call: ConsulCallOptions, errorContext: ErrorContext): Promise<JsonValue> {
    const { client, scope } = ready;
    const payload = envelope.payload;
    switch (envelope.operation) {
      case 'consul.register_service': {
        const p = parseConsulPayload(registerServicePayloadSchema, payload, errorContext);
        const id = p.id ?? p.name;
        checkServiceName(p.name, 'name', scope, errorContext);
        checkServiceName(id, p.id === undefined ? 'name' : 'id', scope, errorContext);
        checkHttpCheckHost(p, scope, errorContext);
        const check = p.check === undefined
          ? undefined
          : 'http' in p.check
            ? { http: p.check.http, interval: p.check.interval, timeout: p.check.timeout, deregisterCriticalServiceAfter: p.check.deregister_critical_service_after }
            : { ttl: p.check.ttl, deregisterCriticalServiceAfter: p.check.deregister_critical_service_after };
        await client.registerService({ name: p.name, id, tags: p.tags, address: p.address, port: p.port, meta: p.meta, check }, call);
        return { service_id: id } satisfies RegisterServiceResponse;
      }
      case 'consul.deregister_service': {
        const p = parseConsulPayload(deregisterServicePayloadSchema, payload, errorContext);
        checkServiceName(p.service_id, 'service_id', scope, errorContext);
        try {
          await client.deregisterService(p.service_id, call);
        } catch (error) {
          if (isNotFound(error)) return { service_id: p.service_id, deregistered: false };
          throw error;
        }
        return { service_id: p.service_id, deregistered: true } satisfies DeregisterServiceResponse;
      }
      case 'consul.get_service': {
        const p = parseConsulPayload(getServicePayloadSchema, payload, errorContext);
        const entries = await client.healthService(p.name, { tag: p.tag, passing: p.passing_only }, call);
        return { found: entries.length > 0, instances: entries.map(instanceOf) } satisfies GetServiceResponse;
      }
      case 'consul.list_services': {
        parseConsulPayload(listServicesPayloadSchema, payload, errorContext);
        return { services: await client.catalogServices(call) } satisfies ListServicesResponse;
      }
      case 'consul.health_check_service': {
        const p = parseConsulPayload(healthCheckServicePayloadSchema, payload, errorContext);
        const entries = await client.healthService(p.name, {}, call);
        const checks = entries.flatMap((e) => e.Checks ?? []);
        const status: ConsulHealthStatus = entries.length === 0 ? 'unknown' : worstStatus(checks);
        return { status, checks: checks.map(checkOf) } satisfies HealthCheckServiceResponse;
      }
      case 'consul.kv_get': {
        const p = parseConsulPayload(kvGetPayloadSchema, payload, errorContext);
        checkKvKey(p.key, scope, errorContext);
        const item = await client.kvGet(p.key, call);
        return (item === undefined ? { found: false, value: null, modify_index: null } : { found: true, value: item.value, modify_index: item.modifyIndex }) satisfies KvGetResponse;
      }
      case 'consul.kv_put': {
        const p = parseConsulPayload(kvPutPayloadSchema, payload, errorContext);
        checkKvKey(p.key, scope, errorContext);
        return { written: await client.kvSet(p.key, p.value, p.cas, call) } satisfies KvPutResponse;
      }
      default: {
        // consul.kv_delete: the operation list was checked in execute().
        const p = parseConsulPayload(kvDeletePayloadSchema, payload, errorContext);
        checkKvKey(p.key, scope, errorContext);
        return { deleted: await client.kvDelete(p.key, p.recurse === true, call) } satisfies KvDeleteResponse;
      }
    }
  }

  /** Closes the agent connections. Idempotent. */
  shutdown(): Promise<void> {
    const ready = this.#ready;
    this.#state = 'shutdown';
    this.#ready = undefined;
    ready?.client.close();
    return Promise.resolve();
  }

  /** `{ healthy, handler_type, state, target, leader?, error? }`, asking the agent for its leader. Never the token. */
  async healthCheck(): Promise<HandlerHealth> {
    const ready = this.#ready;
    if (this.#state !== 'ready' || ready === undefined) return { healthy: false, handler_type: 'consul', state: this.#state };
    const timeoutMs = Math.min(ready.config.timeoutMs, CONSUL_HEALTH_CHECK_TIMEOUT_MS);
    try {
      const leader = await ready.client.leader({ timeoutMs });
      if (leader === '') return { healthy: false, handler_type: 'consul', state: this.#state, target: ready.target, error: 'the Consul cluster has no leader' };
      return { healthy: true, handler_type: 'consul', state: this.#state, target: ready.target };
    } catch (error) {
      const mapped = mapConsulError(error, { operation: 'health_check', correlationId: undefined, target: ready.target, timeoutMs, token: ready.config.token });
      return { healthy: false, handler_type: 'consul', state: this.#state, target: ready.target, error: mapped.message };
    }
  }

  describe(): HandlerDescription {
    return {
      handlerType: 'consul',
      supportedOperations: [...CONSUL_OPERATIONS],
      requiredPayloadFields: {
        'consul.register_service': ['name'],
        'consul.deregister_service': ['service_id'],
        'consul.get_service': ['name'],
        'consul.list_services': [],
        'consul.health_check_service': ['name'],
        'consul.kv_get': ['key'],
        'consul.kv_put': ['key', 'value'],
        'consul.kv_delete': ['key'],
      },
      responseShape:
        'register_service: { service_id }; deregister_service: { service_id, deregistered }; ' +
        'get_service: { found, instances: [{ id, node, address, port, tags, meta, status }] }; list_services: { services }; ' +
        'health_check_service: { status, checks }; kv_get: { found, value, modify_index }; kv_put: { written }; kv_delete: { deleted }',
      version: CONSUL_HANDLER_VERSION,
    };
  }
}

/** Validates `config`, then returns an initialized ConsulHandler. */
export async function createConsulHandler(config: ConsulHandlerConfig, options: ConsulHandlerOptions = {}): Promise<ConsulHandler> {
  const handler = new ConsulHandler(options);
  await handler.initialize(config);
  return handler;
}

/** Read through a function: TypeScript would keep `aborted` narrowed from an earlier check. */
function isAborted(signal: { readonly aborted: boolean } | undefined): boolean {
  return signal?.aborted === true;
}

const shuttingDown = (context: ErrorContext): ShuttingDownError => handlerShutDownError('ConsulHandler', context);

const STATUS_RANK: Readonly<Record<string, number>> = { passing: 0, warning: 1, critical: 2 };

/** The worst status of `checks` (an unknown status counts as critical); none → passing. */
export function worstStatus(checks: readonly { readonly Status: string }[]): ConsulHealthStatus {
  let worst = 0;
  for (const check of checks) worst = Math.max(worst, STATUS_RANK[check.Status] ?? 2);
  return worst === 0 ? 'passing' : worst === 1 ? 'warning' : 'critical';
}

function statusOf(value: string): ConsulHealthStatus {
  return value === 'passing' || value === 'warning' || value === 'critical' ? value : 'unknown';
}

function instanceOf(entry: ConsulHealthEntry): ServiceInstance {
  const s = entry.Service;
  return {
    id: s.ID,
    node: entry.Node.Node,
    // An empty service address means "the node's address" in Consul.
    address: s.Address !== '' ? s.Address : entry.Node.Address,
    port: s.Port,
    tags: s.Tags ?? [],
    meta: s.Meta ?? {},
    status: worstStatus(entry.Checks ?? []),
  };
}

function checkOf(check: ConsulCheck): CheckSummary {
  const output = check.Output.length > MAX_CHECK_OUTPUT ? `${check.Output.slice(0, MAX_CHECK_OUTPUT)}…` : check.Output;
  return { check_id: check.CheckID, name: check.Name, node: check.Node, service_id: check.ServiceID, status: statusOf(check.Status), output };
}
