import {
  HandlerConfigurationError,
  SecretResolutionError,
  isSecretRef,
  type EnvelopeProviders,
  type HandlerBinding,
  type JsonObject,
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
import { HandlerBootstrapSource, type HandlerRequest } from './handler-bootstrap-source.js';
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
  readonly handlerSource?: ProtocolHandlerSource;
  /** @default "sync" (see RuntimeHostProcessOptions.handlerGuard) */
  readonly handlerGuard?: HandlerGuardMode;
  readonly logger?: Logger;
  readonly providers?: EnvelopeProviders;
  /** Names this host instance (idempotency claims, dead-letter records). @default runtime name + random suffix */
  readonly hostId?: string;
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

async function resolveSecret(
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

/** The handler's `initialize` config, from the contract binding with secrets resolved. */
async function handlerRequest(
  binding: HandlerBinding,
  env: Readonly<Record<string, string | undefined>>,
  resolver: ProtocolSecretResolver | undefined,
): Promise<HandlerRequest> {
  const c = binding.config;
  const where = `handler "${binding.name}"`;
  const config: JsonObject = { timeoutMs: c.timeoutMs };
  const url = c.url === undefined ? undefined : await resolveSecret(c.url, `${where} url`, env, resolver);
  if (binding.type === 'http') {
    if (url !== undefined) config.baseUrl = url;
    if (c.maxResponseBytes !== undefined) config.maxResponseBytes = c.maxResponseBytes;
    if (c.poolSize !== undefined) config.connections = c.poolSize;
  } else if (binding.type === 'db') {
    if (url !== undefined) config.url = url;
    if (c.poolSize !== undefined) config.poolSize = c.poolSize;
  } else {
    if (url !== undefined) config.url = url;
    if (c.address !== undefined) config.address = expandPlaceholders(c.address, env, `${where} address`);
    if (c.token !== undefined) config.token = await resolveSecret(c.token, `${where} token`, env, resolver);
    if (c.password !== undefined) config.password = await resolveSecret(c.password, `${where} password`, env, resolver);
    if (c.namespace !== undefined) config.namespace = c.namespace;
    if (c.datacenter !== undefined) config.datacenter = c.datacenter;
    if (c.poolSize !== undefined) config.poolSize = c.poolSize;
  }
  return { type: binding.type, config };
}

/** Host settings from a parsed contract plus resolved handler configs. */
export async function settingsFromContract(
  contract: RuntimeHostContract,
  env: Readonly<Record<string, string | undefined>> = {},
  resolver?: ProtocolSecretResolver,
): Promise<RuntimeHostSettings> {
  const r = contract.runtime;
  const handlers: HandlerRequest[] = [];
  for (const binding of r.handlers) if (binding.enabled) handlers.push(await handlerRequest(binding, env, resolver));
  const retryPolicies: Partial<Record<string, RetryPolicy>> = {};
  for (const binding of r.handlers) if (binding.enabled && binding.config.retryPolicy) retryPolicies[binding.type] = binding.config.retryPolicy;
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
    if (b.config.rateLimit) logger.warn({ handler_type: b.type }, 'rate_limit is accepted but not enforced yet');
  }
  const settings = await settingsFromContract(contract, env, options.secretResolver);
  const hostId = options.hostId ?? `${contract.runtime.name}-${randomUUID().slice(0, 8)}`;
  const bus = options.bus ?? createEventBus(contract, { logger, env, hostId });
  const idempotencyStore = await createIdempotencyStore(contract, env, options.secretResolver, logger);
  return new RuntimeHostProcess({
    hostId,
    idempotencyStore,
    settings,
    bus,
    nodes: options.nodes ?? [],
    handlerSource: options.handlerSource ?? new HandlerBootstrapSource({ logger, includeDevHandlers: options.allowDevHandlers ?? false }),
    logger,
    handlerGuard: options.handlerGuard ?? 'sync',
    directHandlerCalls: options.directHandlerCalls ?? false,
    ...(options.providers ? { providers: options.providers } : {}),
  });
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
