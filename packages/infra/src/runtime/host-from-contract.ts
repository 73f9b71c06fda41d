import {
  HandlerConfigurationError,
  SecretResolutionError,
  isSecretRef,
  type EnvelopeProviders,
  type HandlerBinding,
  type JsonObject,
  type NodeInstance,
  type RuntimeHostContract,
  type SecretValue,
} from '@onex/core';
import type { ProtocolEventBus, ProtocolHandlerSource, ProtocolSecretResolver } from '@onex/spi';
import { InMemoryEventBus } from '../event-bus/in-memory-event-bus.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { HandlerBootstrapSource, type HandlerRequest } from './handler-bootstrap-source.js';
import type { HandlerGuardMode } from './handler-scope.js';
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
  return Object.freeze({
    name: r.name,
    version: r.version,
    inputTopic: r.eventBus.topics.input,
    outputTopic: r.eventBus.topics.output,
    maxInFlight: r.maxInFlight,
    drainTimeoutMs: r.drainTimeoutMs,
    handlers,
  });
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
    if (b.config.retryPolicy || b.config.rateLimit) {
      logger.warn({ handler_type: b.type }, 'retry_policy / rate_limit are accepted but not enforced yet: each call is attempted once');
    }
  }
  const settings = await settingsFromContract(contract, env, options.secretResolver);
  const bus = options.bus ?? createEventBus(contract, logger);
  return new RuntimeHostProcess({
    settings,
    bus,
    nodes: options.nodes ?? [],
    handlerSource: options.handlerSource ?? new HandlerBootstrapSource({ logger, includeDevHandlers: options.allowDevHandlers ?? false }),
    logger,
    handlerGuard: options.handlerGuard ?? 'sync',
    ...(options.providers ? { providers: options.providers } : {}),
  });
}

/** The event bus a contract names. */
export function createEventBus(contract: RuntimeHostContract, logger: Logger = silentLogger): ProtocolEventBus {
  const bus = contract.runtime.eventBus;
  if (bus.kind === 'inmemory') return new InMemoryEventBus({ maxQueueSize: bus.maxQueueSize, logger });
  throw new HandlerConfigurationError(`Event bus kind "${bus.kind}" is not available in this build of @onex/infra`, {
    hint: 'Use event_bus.kind: inmemory; the Kafka event bus ships in a later release.',
  });
}
