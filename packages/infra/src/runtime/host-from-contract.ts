import {
  HandlerConfigurationError,
  SecretResolutionError,
  isSecretRef,
  type EnvelopeProviders,
  type HandlerBinding,
  type NodeInstance,
  type RetryPolicy,
  type RuntimeHostContract,
  type SecretValue,
} from '@onex/core';
import { randomUUID } from 'node:crypto';
import type { ProtocolEventBus, ProtocolHandlerSource, ProtocolIdempotencyStore, ProtocolSecretResolver } from '@onex/spi';
import { InMemoryEventBus } from '../event-bus/in-memory-event-bus.js';
import { KafkaEventBus } from '../event-bus/kafka/kafka-event-bus.js';
import { KafkajsClient } from '../event-bus/kafka/kafkajs-client.js';
import { InMemoryIdempotencyStore } from '../idempotency/in-memory-idempotency-store.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { systemScheduler } from './scheduler.js';
import type { HandlerHostFacts, HandlerUnit } from '../handlers/handler-unit.js';
import { findHandlerUnit, HANDLER_UNITS } from '../handlers/registry.js';
import { HandlerBootstrapSource, type HandlerRequest } from './handler-bootstrap-source.js';
import { assertBindingSecrets } from './handler-security.js';
import { handlerSourceFromContract } from './handler-source-resolution.js';
import type { HandlerGuardMode } from './handler-scope.js';
import type { IngressClientToken } from './ingress-server.js';
import { RuntimeHostProcess, type RuntimeHostSettings } from './runtime-host-process.js';

export interface HostFromContractOptions {
  readonly contract: RuntimeHostContract;
  readonly nodes?: readonly NodeInstance[];
  /** Environment for `${NAME}` placeholders and `env://NAME` secret references. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Resolves `vault://` secret references; without one they fail at start. */
  readonly secretResolver?: ProtocolSecretResolver;
  /** Offer the dev-only `local` handler (the `dev` command). @default false */
  readonly allowDevHandlers?: boolean;
  /** Overrides the bus the contract describes (tests, embedding). */
  readonly bus?: ProtocolEventBus;
  /**
   * Replaces the source `runtime.handler_source` describes (tests, embedding); its
   * descriptors' secret scopes are still checked against the bindings.
   */
  readonly handlerSource?: ProtocolHandlerSource;
  /** The handler units that map bindings to handler configs (and build the default source). @default HANDLER_UNITS */
  readonly units?: readonly HandlerUnit[];
  /** Directory the contract's relative `handler_source.contract_paths` resolve from. @default the working directory */
  readonly contractDir?: string;
  /** Clock for the bootstrap override expiry gate. @default () => new Date() */
  readonly now?: () => Date;
  /** @default "sync" (see RuntimeHostProcessOptions.handlerGuard) */
  readonly handlerGuard?: HandlerGuardMode;
  readonly logger?: Logger;
  readonly providers?: EnvelopeProviders;
  /** Names this host instance (idempotency claims, dead-letter records). @default runtime name + random suffix */
  readonly hostId?: string;
  /**
   * The host runs in production (`run` with ENVIRONMENT=prod): handlers apply their
   * production policies, e.g. the db handler refuses a privileged database role.
   * @default false
   */
  readonly production?: boolean;
  /** See RuntimeHostProcessOptions.directHandlerCalls; code may open it, a contract cannot. @default false */
  readonly directHandlerCalls?: boolean;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Expands `${NAME}` from `env`; a missing variable is a configuration error naming it. */
export function expandPlaceholders(text: string, env: Readonly<Record<string, string | undefined>>, where: string): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) {
      throw new HandlerConfigurationError(`Environment variable ${name} is not set (used by ${where})`, {
        hint: `Export ${name} before starting the host, or write the value into the contract.`,
      });
    }
    return value;
  });
}

/** A credential value as the host resolves it: `${NAME}` placeholders and env:// from `env`, vault:// through `resolver`. */
export async function resolveSecret(
  value: SecretValue,
  where: string,
  env: Readonly<Record<string, string | undefined>>,
  resolver: ProtocolSecretResolver | undefined,
): Promise<string> {
  if (!isSecretRef(value)) return expandPlaceholders(value, env, where);
  if (value.scheme === 'env') {
    const resolved = env[value.path];
    if (resolved === undefined) {
      throw new SecretResolutionError(`Secret reference ${value.secretRef} (${where}) names an unset environment variable`, {
        hint: `Export ${value.path} before starting the host.`,
      });
    }
    return resolved;
  }
  if (!resolver || !resolver.schemes.includes(value.scheme)) {
    throw new SecretResolutionError(`No secret resolver for ${value.scheme}:// references (${where})`, {
      hint: 'Configure a Vault secret resolver for the host, or use env://NAME references.',
    });
  }
  return resolver.resolve({ secretRef: value.secretRef });
}

/**
 * The handler's `initialize` config: the unit's credential fields resolved (env:// refs,
 * `${NAME}` placeholders, vault:// through the resolver), then the unit maps settings and
 * policies to its handler's config. No per-type branches here.
 */
async function handlerRequest(
  binding: HandlerBinding,
  units: readonly HandlerUnit[],
  env: Readonly<Record<string, string | undefined>>,
  resolver: ProtocolSecretResolver | undefined,
  host: HandlerHostFacts,
): Promise<HandlerRequest> {
  const unit = findHandlerUnit(binding.type, units);
  if (unit === undefined) {
    // The contract was validated against a catalog of other units (an embedding mistake).
    throw new HandlerConfigurationError(`No handler unit for type "${binding.type}"`, {
      handlerType: binding.type,
      hint: `Validate the contract with the same handler units the host is built from (registered: ${units.map((u) => u.type).join(', ')}).`,
    });
  }
  const settings: Record<string, unknown> = { ...binding.settings };
  for (const field of unit.credentialFields) {
    const value = binding.settings[field];
    if (typeof value === 'string' || isSecretRef(value)) {
      settings[field] = await resolveSecret(value, `handler "${binding.name}" ${field}`, env, resolver);
    }
  }
  for (const field of unit.placeholderFields ?? []) {
    const value = binding.settings[field];
    if (typeof value === 'string') settings[field] = expandPlaceholders(value, env, `handler "${binding.name}" ${field}`);
  }
  // Every secret value of the settings is a credential field, resolved just above.
  return { type: binding.type, config: unit.initializeConfig(settings, binding.policies, host) };
}

export interface SettingsFromContractOptions {
  /** Environment for `${NAME}` placeholders and `env://NAME` references. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly resolver?: ProtocolSecretResolver | undefined;
  /** @default HANDLER_UNITS */
  readonly units?: readonly HandlerUnit[];
  /** What handlers learn about their host. @default the runtime name, not production */
  readonly host?: HandlerHostFacts;
}

/** Host settings from a parsed contract plus resolved handler configs. */
export async function settingsFromContract(contract: RuntimeHostContract, options: SettingsFromContractOptions = {}): Promise<RuntimeHostSettings> {
  const r = contract.runtime;
  const env = options.env ?? {};
  const units = options.units ?? HANDLER_UNITS;
  const host = options.host ?? { hostId: r.name, production: false };
  const handlers: HandlerRequest[] = [];
  for (const binding of r.handlers) if (binding.enabled) handlers.push(await handlerRequest(binding, units, env, options.resolver, host));
  const retryPolicies: Partial<Record<string, RetryPolicy>> = {};
  for (const binding of r.handlers) if (binding.enabled && binding.policies.retryPolicy) retryPolicies[binding.type] = binding.policies.retryPolicy;
  return Object.freeze({
    name: r.name,
    version: r.version,
    inputTopic: r.eventBus.topics.input,
    outputTopic: r.eventBus.topics.output,
    maxInFlight: r.maxInFlight,
    drainTimeoutMs: r.drainTimeoutMs,
    handlers,
    retryPolicies,
    idempotency: { leaseMs: r.idempotency.leaseMs, onInterrupted: r.idempotency.onInterrupted },
    readinessProbeIntervalMs: r.ingress.readinessProbeIntervalMs,
  });
}

/**
 * The ingress bearer tokens a contract names, resolved from `env` (or a secret resolver).
 * An unset variable fails start-up: an ingress that silently lost a client's token would
 * either lock that client out or, with no tokens left, run unauthenticated.
 */
export async function resolveIngressTokens(
  contract: RuntimeHostContract,
  env: Readonly<Record<string, string | undefined>>,
  resolver?: ProtocolSecretResolver,
): Promise<IngressClientToken[]> {
  const tokens: IngressClientToken[] = [];
  for (const t of contract.runtime.ingress.authTokens) {
    tokens.push({ client: t.client, token: await resolveSecret(t.token, `ingress.auth_tokens client "${t.client}"`, env, resolver) });
  }
  return tokens;
}

/**
 * Wires a RuntimeHostProcess from a parsed contract: the bus it names, its handlers
 * (through the bootstrap source, the only place handlers are built), its nodes.
 */
export async function createRuntimeHostFromContract(options: HostFromContractOptions): Promise<RuntimeHostProcess> {
  const { contract } = options;
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? {};
  for (const b of contract.runtime.handlers) {
    if (b.policies.rateLimit) logger.warn({ handler_type: b.type }, 'rate_limit is accepted but not enforced yet');
  }
  const units = options.units ?? HANDLER_UNITS;
  const hostId = options.hostId ?? `${contract.runtime.name}-${randomUUID().slice(0, 8)}`;
  // The source (and its secret-scope check) comes first: a secret a handler may not have
  // is refused before it is ever fetched, not after.
  const handlerSource = await handlerSourceFor(options, logger);
  const settings = await settingsFromContract(contract, { env, resolver: options.secretResolver, units, host: { hostId, production: options.production ?? false } });
  const bus = options.bus ?? createEventBus(contract, { logger, env, hostId });
  const idempotencyStore = await createIdempotencyStore(contract, env, options.secretResolver, logger);
  return new RuntimeHostProcess({
    hostId,
    idempotencyStore,
    settings,
    bus,
    nodes: options.nodes ?? [],
    handlerSource,
    logger,
    handlerGuard: options.handlerGuard ?? 'sync',
    directHandlerCalls: options.directHandlerCalls ?? false,
    ...(options.providers ? { providers: options.providers } : {}),
  });
}

/**
 * The handler source of a host: the one passed in, or the one `runtime.handler_source`
 * describes (contract mode by default). Either way, each binding's secret references must
 * fall inside the scopes its handler's contract declares.
 */
async function handlerSourceFor(options: HostFromContractOptions, logger: Logger): Promise<ProtocolHandlerSource> {
  const source =
    options.handlerSource ??
    (await handlerSourceFromContract({
      contract: options.contract,
      contractDir: options.contractDir,
      allowDevHandlers: options.allowDevHandlers ?? false,
      bootstrap: new HandlerBootstrapSource({ logger, units: options.units ?? HANDLER_UNITS, includeDevHandlers: options.allowDevHandlers ?? false }),
      now: options.now,
      logger,
    }));
  assertBindingSecrets(options.contract.runtime.handlers, await source.discoverHandlers(), { sourceType: source.sourceType });
  return source;
}

/** Brokers from the contract, `${NAME}` placeholders expanded (a variable may hold a comma-separated list). */
export function resolveBootstrapServers(servers: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const brokers = servers.flatMap((s) => expandPlaceholders(s, env, 'event_bus.config.bootstrap_servers').split(',')).map((b) => b.trim()).filter((b) => b.length > 0);
  const bad = brokers.filter((b) => !/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/.test(b));
  if (brokers.length === 0 || bad.length > 0) {
    throw new HandlerConfigurationError(`event_bus.config.bootstrap_servers must list brokers as host:port (got ${brokers.length === 0 ? 'nothing' : bad.map((b) => `"${b}"`).join(', ')})`, {
      hint: 'Set e.g. KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092,127.0.0.1:9094 (no scheme, no credentials).',
    });
  }
  return brokers;
}

/** The event bus a contract names. Kafka connects only on `startConsuming` (so `--dry-run` wires without a broker). */
export function createEventBus(
  contract: RuntimeHostContract,
  options: { logger?: Logger; env?: Readonly<Record<string, string | undefined>>; hostId?: string } = {},
): ProtocolEventBus {
  const logger = options.logger ?? silentLogger;
  const r = contract.runtime;
  const bus = r.eventBus;
  if (bus.kind === 'inmemory') return new InMemoryEventBus({ maxQueueSize: bus.maxQueueSize, logger });
  const k = bus.kafka;
  const client = new KafkajsClient({
    brokers: resolveBootstrapServers(bus.bootstrapServers, options.env ?? {}),
    clientId: bus.clientId,
    groupId: bus.consumerGroup,
    sessionTimeoutMs: k.sessionTimeoutMs,
    heartbeatIntervalMs: k.heartbeatIntervalMs,
    rebalanceTimeoutMs: k.rebalanceTimeoutMs,
    connectionTimeoutMs: k.connectionTimeoutMs,
    requestTimeoutMs: k.requestTimeoutMs,
    fromBeginning: k.autoOffsetReset === 'earliest',
    logger,
    scheduler: systemScheduler,
  });
  return new KafkaEventBus({
    client,
    logger,
    settings: {
      delivery: k.delivery,
      inputTopic: bus.topics.input,
      deadLetterTopic: bus.topics.deadLetter,
      consumerGroup: bus.consumerGroup,
      hostId: options.hostId ?? `${r.name}-${randomUUID().slice(0, 8)}`,
      maxInflightEnvelopes: k.maxInflightEnvelopes,
      pauseConsumptionThreshold: k.pauseConsumptionThreshold,
      commitIntervalMs: k.commitIntervalMs,
      stallTimeoutMs: k.stallTimeoutMs,
      drainTimeoutMs: r.drainTimeoutMs,
    },
  });
}

/** The idempotency store a contract names; the PostgreSQL one is loaded only when used. */
export async function createIdempotencyStore(
  contract: RuntimeHostContract,
  env: Readonly<Record<string, string | undefined>>,
  resolver: ProtocolSecretResolver | undefined,
  logger: Logger,
): Promise<ProtocolIdempotencyStore> {
  const c = contract.runtime.idempotency;
  if (c.store === 'memory') return new InMemoryIdempotencyStore({ ttlMs: c.ttlMs, maxEntries: c.maxEntries });
  const url = await resolveSecret(c.url ?? '', 'runtime.idempotency url', env, resolver);
  const { PostgresIdempotencyStore } = await import('../idempotency/postgres-idempotency-store.js');
  return new PostgresIdempotencyStore({ url, namespace: contract.runtime.eventBus.consumerGroup, ttlMs: c.ttlMs, logger });
}
