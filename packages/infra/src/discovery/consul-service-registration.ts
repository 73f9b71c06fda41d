/**
 * Self-registration of a runtime host in Consul (`runtime.service_registration`): once the
 * host is ready it registers one service instance with an HTTP check on its own
 * `/health/ready` (open without a bearer token, so Consul can call it), and removes it on
 * stop. Failures are typed errors: a registration that fails fails the start.
 */
import { HandlerConfigurationError, type SecretString, type ServiceRegistrationConfig } from '@onex/core';
import type { ProtocolSecretResolver } from '@onex/spi';
import { ConsulAgentClient, isNotFound } from '../handlers/consul/consul-client.js';
import { parseConsulAddress } from '../handlers/consul/consul-config.js';
import { mapConsulError, type ConsulCallContext } from '../handlers/consul/consul-errors.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { expandPlaceholders } from '../runtime/host-from-contract.js';
import { resolveSecretValue } from '../secrets/secret-value.js';

/** Budget of one register or deregister call. @default 10 000 ms */
export const SERVICE_REGISTRATION_CALL_TIMEOUT_MS = 10_000;

/** What to register, fully resolved (no placeholders, the token wrapped). */
export interface ServiceRegistrationPlan {
  /** The agent: `host:port` or `http(s)://host:port`. */
  readonly consulAddress: string;
  readonly token?: SecretString | undefined;
  readonly serviceName: string;
  readonly serviceId: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** Address and port other services dial; the check calls `http://address:port/health/ready`. */
  readonly address: string;
  readonly port: number;
  readonly check: { readonly intervalMs: number; readonly timeoutMs: number; readonly deregisterCriticalAfterMs: number };
}

/** A registered instance; `deregister()` removes it (idempotent, never throws: it logs). */
export interface ServiceRegistration {
  readonly serviceId: string;
  /** `http://host:port` of the agent. */
  readonly agent: string;
  deregister(): Promise<void>;
}

/**
 * The plan from a contract's `service_registration` and the running ingress: `${NAME}`
 * placeholders from `env`, the token through the host's secret resolver, address
 * and port defaulting to where the ingress listens, the id to `<name>-<hostId>`.
 * @throws HandlerConfigurationError / SecretResolutionError naming what is missing.
 */
export async function serviceRegistrationPlan(
  config: ServiceRegistrationConfig,
  facts: { readonly hostId: string; readonly ingressUrl: string; readonly env: Readonly<Record<string, string | undefined>>; readonly resolver: ProtocolSecretResolver },
): Promise<ServiceRegistrationPlan> {
  const consulAddress = expandPlaceholders(config.consul.address, facts.env, 'service_registration.consul.address');
  if (parseConsulAddress(consulAddress) === undefined) {
    throw new HandlerConfigurationError(`service_registration.consul.address must be "host:port" or "http(s)://host:port" (got "${consulAddress}")`, {
      hint: 'Set e.g. CONSUL_HTTP_ADDR=127.0.0.1:8500.',
    });
  }
  const token = config.consul.token === undefined ? undefined : await resolveSecretValue(config.consul.token, 'service_registration.consul.token', facts.resolver);
  const ingress = new URL(facts.ingressUrl);
  // A Consul service id allows letters, digits, "_", ".", ":" and "-".
  // The default host id already starts with the runtime name (`orders-1a2b3c4d`): no need to say it twice.
  const defaultId = facts.hostId.startsWith(`${config.serviceName}-`) ? facts.hostId : `${config.serviceName}-${facts.hostId}`;
  const serviceId = (config.serviceId ?? defaultId).replace(/[^A-Za-z0-9_.:-]/g, '-');
  return {
    consulAddress,
    token,
    serviceName: config.serviceName,
    serviceId,
    tags: config.tags,
    meta: config.meta,
    address: config.address ?? ingress.hostname.replace(/^\[|\]$/g, ''),
    port: config.port ?? Number(ingress.port),
    check: config.check,
  };
}

/**
 * Registers the host's service on the agent, with an HTTP check on its `/health/ready`.
 * @throws typed Infra* / HandlerExecutionError errors (consul-errors.ts) when the agent refuses or cannot be reached.
 */
export async function registerServiceInConsul(plan: ServiceRegistrationPlan, options: { readonly logger?: Logger } = {}): Promise<ServiceRegistration> {
  const logger = options.logger ?? silentLogger;
  const agent = parseConsulAddress(plan.consulAddress);
  if (agent === undefined) throw new HandlerConfigurationError(`Invalid Consul agent address "${plan.consulAddress}"`, { hint: 'Use "host:port" or "http(s)://host:port".' });
  const client = new ConsulAgentClient(agent, { token: plan.token });
  const context = (operation: string): ConsulCallContext => ({ operation, correlationId: undefined, target: agent.target, timeoutMs: SERVICE_REGISTRATION_CALL_TIMEOUT_MS, token: plan.token });
  const host = plan.address.includes(':') ? `[${plan.address}]` : plan.address;
  const checkUrl = `http://${host}:${plan.port}/health/ready`;
  try {
    await client.registerService(
      {
        name: plan.serviceName,
        id: plan.serviceId,
        tags: plan.tags,
        address: plan.address,
        port: plan.port,
        meta: plan.meta,
        check: {
          http: checkUrl,
          interval: `${plan.check.intervalMs}ms`,
          timeout: `${plan.check.timeoutMs}ms`,
          deregisterCriticalServiceAfter: `${plan.check.deregisterCriticalAfterMs}ms`,
        },
      },
      { timeoutMs: SERVICE_REGISTRATION_CALL_TIMEOUT_MS },
    );
  } catch (error) {
    client.close();
    throw mapConsulError(error, context('service_registration'));
  }
  logger.info({ service_id: plan.serviceId, service_name: plan.serviceName, address: plan.address, port: plan.port, check: checkUrl, consul: agent.target }, 'registered in Consul');
  let done: Promise<void> | undefined;
  return {
    serviceId: plan.serviceId,
    agent: agent.target,
    deregister() {
      done ??= (async () => {
        try {
          await client.deregisterService(plan.serviceId, { timeoutMs: SERVICE_REGISTRATION_CALL_TIMEOUT_MS });
          logger.info({ service_id: plan.serviceId, consul: agent.target }, 'deregistered from Consul');
        } catch (error) {
          if (isNotFound(error)) {
            logger.info({ service_id: plan.serviceId, consul: agent.target }, 'already gone from Consul');
          } else {
            // Consul removes it after deregister_critical_after_ms once the check fails.
            const mapped = mapConsulError(error, context('service_deregistration'));
            logger.warn({ ...mapped.toLogFields(), service_id: plan.serviceId }, 'could not deregister from Consul; its check will fail and Consul will reap it');
          }
        } finally {
          client.close();
        }
      })();
      return done;
    },
  };
}
