import {
  HandlerConfigurationError,
  type EnvelopeProviders,
  type HandlerBinding,
  type NodeInstance,
  type RetryPolicy,
  type RuntimeHostContract,
} from '@onex/core';
import { interpolatePlaceholders } from '@onex/core/contract-kit';
import { randomUUID } from 'node:crypto';
import type { HandlerDescriptor, ProtocolEventBus, ProtocolHandlerSource, ProtocolIdempotencyStore, ProtocolSecretResolver } from '@onex/spi';
import { InMemoryEventBus } from '../event-bus/in-memory-event-bus.js';
import { KafkaEventBus } from '../event-bus/kafka/kafka-event-bus.js';
import { KafkajsClient } from '../event-bus/kafka/kafkajs-client.js';
import { InMemoryIdempotencyStore } from '../idempotency/in-memory-idempotency-store.js';
import { silentLogger, withRuntimeId, type Logger } from '../logging/logger.js';
import { systemScheduler } from './scheduler.js';
import type { HandlerHostFacts, HandlerUnit } from '../handlers/handler-unit.js';
import { findHandlerUnit, HANDLER_UNITS } from '../handlers/registry.js';
import { EnvSecretSource } from '../secrets/env-secret-source.js';
import { SecretResolver } from '../secrets/secret-resolver.js';
import { resolveSecretValue } from '../secrets/secret-value.js';
import { createSecretsFromContract, type ClosableSecretSource, type HostSecrets } from '../secrets/secrets-from-contract.js';
import type { VaultSecretSourceOptions } from '../secrets/vault-secret-source.js';
import { HandlerBootstrapSource, type HandlerRequest } from './handler-bootstrap-source.js';
import { HandlerConfigResolver, type ScopableSecretResolver } from './handler-config-resolver.js';
import { assertBindingSecrets } from './handler-security.js';
import { handlerSourceFromContract } from './handler-source-resolution.js';
import type { HandlerGuardMode } from './handler-scope.js';
import type { IngressClientToken } from './ingress-server.js';
import { RuntimeHostProcess, type RuntimeHostSettings } from './runtime-host-process.js';

export interface HostFromContractOptions {
  readonly contract: RuntimeHostContract;
  readonly nodes?: readonly NodeInstance[];
  /**
   * The process environment: `${NAME}` placeholders, environment overrides
   * (`ONEX_HANDLER_<NAME>_<FIELD>`) and, unless `secretResolver` is given, the env secret
   * source of the resolver built from `runtime.secrets`. Nothing else reads `process.env`.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves every secret the host needs (owned by the caller, who closes it). Absent: the
   * host builds one from `runtime.secrets` and `env`, and closes it when it stops.
   */
  readonly secretResolver?: ScopableSecretResolver;
  /** Builds the Vault source when `runtime.secrets.vault` is set and no `secretResolver` is given. */
  readonly createVaultSource?: (options: VaultSecretSourceOptions) => Promise<ClosableSecretSource>;
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
  /** Directory the contract's relative `handler_source.contract_paths` and `config_ref`s resolve from. @default the working directory */
  readonly contractDir?: string;
  /** The contract's path as shown in errors. */
  readonly contractFile?: string;
  /** The contract's text, so configuration errors carry line numbers. */
  readonly contractText?: string;
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

/**
 * Expands `${NAME}` / `${NAME:-default}` from `env` in a setting that is not a secret
 * (broker lists); an unset variable without a default is a configuration error naming it.
 */
export function expandPlaceholders(text: string, env: Readonly<Record<string, string | undefined>>, where: string): string {
  const { value, missing } = interpolatePlaceholders(text, (name) => env[name]);
  const [first] = missing;
  if (first !== undefined) {
    throw new HandlerConfigurationError(`Environment variable ${first} is not set (used by ${where})`, {
      hint: `Export ${first} before starting the host, give the placeholder a default (\${${first}:-…}), or write the value into the contract.`,
    });
  }
  return value;
}

/** A resolver over the environment alone: for callers that give neither a resolver nor a contract's secrets. */
function envOnlyResolver(env: Readonly<Record<string, string | undefined>>): SecretResolver {
  return new SecretResolver({ sources: [new EnvSecretSource({ env })], ttlMs: 0 });
}

/** The scopes a binding's secrets are limited to: those its handler contract declares. */
export function secretScopesOf(descriptors: readonly HandlerDescriptor[]): (binding: HandlerBinding) => readonly string[] | undefined {
  return (binding) => {
    const security = descriptors.find((d) => d.handlerType === binding.type)?.security;
    // Bootstrap descriptors declare nothing: not limited, as at registration.
    if (security === undefined) return undefined;
    const descriptor = descriptors.find((d) => d.handlerType === binding.type);
    return descriptor?.isAdapter === true && security.allowSecretScopes !== true ? [] : security.secretScopes;
  };
}

export interface SettingsFromContractOptions {
  /** Environment for `${NAME}` placeholders and overrides. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default a resolver over `env` alone */
  readonly resolver?: ScopableSecretResolver | undefined;
  /** @default HANDLER_UNITS */
  readonly units?: readonly HandlerUnit[];
  /** What handlers learn about their host. @default the runtime name, not production */
  readonly host?: HandlerHostFacts;
  /** Where `config_ref`s resolve from. @default the working directory */
  readonly contractDir?: string | undefined;
  readonly contractFile?: string | undefined;
  readonly contractText?: string | undefined;
  /** See HandlerConfigResolverOptions.scopesFor. @default none (not limited) */
  readonly scopesFor?: ((binding: HandlerBinding) => readonly string[] | undefined) | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * Host settings from a parsed contract plus resolved handler configs: each enabled
 * binding goes through the HandlerConfigResolver (config_ref, overrides, placeholders,
 * secrets, validation), then its unit maps it to the handler's initialize config.
 */
export async function settingsFromContract(contract: RuntimeHostContract, options: SettingsFromContractOptions = {}): Promise<RuntimeHostSettings> {
  const r = contract.runtime;
  const env = options.env ?? {};
  const units = options.units ?? HANDLER_UNITS;
  const host = options.host ?? { hostId: r.name, production: false };
  const configs = new HandlerConfigResolver({
    secrets: options.resolver ?? envOnlyResolver(env),
    env,
    units,
    contract,
    contractDir: options.contractDir,
    contractFile: options.contractFile,
    contractText: options.contractText,
    scopesFor: options.scopesFor,
    logger: options.logger,
  });
  const bindings = await configs.resolveAll(r.handlers.filter((b) => b.enabled));
  const handlers: HandlerRequest[] = bindings.map((binding) => {
    const unit = findHandlerUnit(binding.type, units);
    if (unit === undefined) {
      throw new HandlerConfigurationError(`No handler unit for type "${binding.type}"`, {
        handlerType: binding.type,
        hint: `Validate the contract with the same handler units the host is built from (registered: ${units.map((u) => u.type).join(', ')}).`,
      });
    }
    // The resolver turned every credential field into a SecretString.
    return { type: binding.type, required: binding.required, config: unit.initializeConfig(binding.settings as never, binding.policies, host), policies: binding.policies };
  });
  const retryPolicies: Partial<Record<string, RetryPolicy>> = {};
  for (const binding of bindings) if (binding.policies.retryPolicy) retryPolicies[binding.type] = binding.policies.retryPolicy;
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
    metrics: r.observability.metrics,
    // Without an ingress there is no load balancer reading /health/ready to wait for.
    readyDrainDelayMs: r.ingress.enabled ? r.ingress.readyDrainDelayMs : 0,
  });
}

/**
 * The ingress bearer tokens a contract names, resolved through the host's secret
 * resolver. An unset one fails start-up: an ingress that silently lost a client's token
 * would either lock that client out or, with no tokens left, run unauthenticated.
 */
export async function resolveIngressTokens(contract: RuntimeHostContract, secrets: ProtocolSecretResolver): Promise<IngressClientToken[]> {
  const tokens: IngressClientToken[] = [];
  for (const t of contract.runtime.ingress.authTokens) {
    tokens.push({ client: t.client, token: await resolveSecretValue(t.token, `ingress.auth_tokens client "${t.client}"`, secrets) });
  }
  return tokens;
}

/**
 * Wires a RuntimeHostProcess from a parsed contract: the bus it names, its handlers
 * (through the bootstrap source, the only place handlers are built), its nodes.
 */
export async function createRuntimeHostFromContract(options: HostFromContractOptions): Promise<RuntimeHostProcess> {
  const { contract } = options;
  const hostId = options.hostId ?? `${contract.runtime.name}-${randomUUID().slice(0, 8)}`;
  // Everything built for this host (bus, handler source, secrets, the host) logs its runtime_id.
  const logger = withRuntimeId(options.logger ?? silentLogger, hostId);
  const env = options.env ?? {};
  const units = options.units ?? HANDLER_UNITS;
  // The source (and its secret-scope check) comes first: a secret a handler may not have
  // is refused before it is ever fetched, not after.
  const handlerSource = await handlerSourceFor(options, logger);
  const owned: HostSecrets | undefined =
    options.secretResolver === undefined ? await createSecretsFromContract(contract.runtime.secrets, { env, logger, ...(options.createVaultSource ? { createVaultSource: options.createVaultSource } : {}) }) : undefined;
  const secrets = options.secretResolver ?? (owned as HostSecrets).resolver;
  try {
    const settings = await settingsFromContract(contract, {
      env,
      resolver: secrets,
      units,
      host: { hostId, production: options.production ?? false },
      contractDir: options.contractDir,
      contractFile: options.contractFile,
      contractText: options.contractText,
      scopesFor: secretScopesOf(await handlerSource.discoverHandlers()),
      logger,
    });
    const bus = options.bus ?? createEventBus(contract, { logger, env, hostId });
    const idempotencyStore = await createIdempotencyStore(contract, secrets, logger);
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
      ...(owned ? { onStopped: () => owned.close() } : {}),
      ...(options.providers ? { providers: options.providers } : {}),
    });
  } catch (error) {
    await owned?.close();
    throw error;
  }
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
      outputKey: k.outputKey,
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
export async function createIdempotencyStore(contract: RuntimeHostContract, secrets: ProtocolSecretResolver, logger: Logger): Promise<ProtocolIdempotencyStore> {
  const c = contract.runtime.idempotency;
  if (c.store === 'memory') return new InMemoryIdempotencyStore({ ttlMs: c.ttlMs, maxEntries: c.maxEntries });
  const url = await resolveSecretValue(c.url ?? '', 'runtime.idempotency url', secrets);
  const { PostgresIdempotencyStore } = await import('../idempotency/postgres-idempotency-store.js');
  return new PostgresIdempotencyStore({ url: url.reveal(), namespace: contract.runtime.eventBus.consumerGroup, ttlMs: c.ttlMs, logger });
}
