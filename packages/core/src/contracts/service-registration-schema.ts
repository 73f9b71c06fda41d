/**
 * `runtime.service_registration`: the host registers itself in Consul once it is ready
 * (an HTTP check on its own `/health/ready`) and deregisters when it stops. Optional;
 * absent means the host registers nowhere. Wire snake_case in, camelCase out.
 */
import { z } from 'zod';
import { addRuleIssue, matching, nonEmptyString, positiveInt } from './schema-helpers.js';
import { isPlaceholder, isTemplated, secretValueSchema, type SecretValue } from './secret-ref.js';

/** Defaults of `runtime.service_registration` (quoted by RUNTIME_HOST_DEFAULTS). */
export const SERVICE_REGISTRATION_DEFAULTS = {
  /** How often Consul probes `/health/ready`. */
  checkIntervalMs: 10_000,
  /** How long one probe may take. */
  checkTimeoutMs: 5_000,
  /** Consul removes the instance after it has been critical this long (its reaper runs about once a minute). */
  deregisterCriticalAfterMs: 60_000,
} as const;

/** The Consul HTTP check on the host's `/health/ready`. */
export interface ServiceRegistrationCheck {
  /** @default 10000 */
  readonly intervalMs: number;
  /** @default 5000 */
  readonly timeoutMs: number;
  /** @default 60000 */
  readonly deregisterCriticalAfterMs: number;
}

/** Where and how the host registers itself. */
export interface ServiceRegistrationConfig {
  /** The Consul agent to register with. */
  readonly consul: {
    /** `host:port`, `http(s)://host:port`, or a `${NAME}` placeholder such as `${CONSUL_HTTP_ADDR}`. */
    readonly address: string;
    /** ACL token: `{ secret_ref }` or a `${NAME}` placeholder, never a literal. */
    readonly token?: SecretValue | undefined;
  };
  /** @default the runtime name */
  readonly serviceName: string;
  /** @default `<service name>-<host id>` (unique per process) */
  readonly serviceId?: string | undefined;
  /** @default [] */
  readonly tags: readonly string[];
  /** @default {} */
  readonly meta: Readonly<Record<string, string>>;
  /** Address other services use to reach this host. @default the ingress host */
  readonly address?: string | undefined;
  /** @default the port the ingress listens on */
  readonly port?: number | undefined;
  readonly check: ServiceRegistrationCheck;
}

const SERVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SERVICE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$/;
const CONSUL_ADDRESS_RE = /^(?:https?:\/\/)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/;

const consulAgentSchema = z.strictObject({
  address: z.string().min(1).superRefine((value, ctx) => {
    if (!isTemplated(value) && !CONSUL_ADDRESS_RE.test(value)) {
      addRuleIssue(ctx, `must be "host:port", "http(s)://host:port" or a \${NAME} placeholder (got "${value}")`, {
        hint: 'Write e.g. address: "127.0.0.1:8500" or address: "${CONSUL_HTTP_ADDR}".',
      });
    }
  }),
  token: secretValueSchema
    .superRefine((value, ctx) => {
      // A token written into the contract would sit in git and in every copy of the file.
      if (typeof value === 'string' && !isPlaceholder(value)) {
        addRuleIssue(ctx, 'must not be a literal token', {
          ruleId: 'CONTRACT_INLINE_SECRET',
          hint: 'Point at it instead: token: { secret_ref: "env://CONSUL_HTTP_TOKEN" } (or "${CONSUL_HTTP_TOKEN}").',
        });
      }
    })
    .optional(),
});

const D = SERVICE_REGISTRATION_DEFAULTS;
const checkSchema = z
  .strictObject({
    interval_ms: z.number().int().min(1_000).default(D.checkIntervalMs),
    timeout_ms: positiveInt.default(D.checkTimeoutMs),
    deregister_critical_after_ms: z.number().int().min(60_000).default(D.deregisterCriticalAfterMs),
  })
  .transform((w): ServiceRegistrationCheck => ({ intervalMs: w.interval_ms, timeoutMs: w.timeout_ms, deregisterCriticalAfterMs: w.deregister_critical_after_ms }));

/** Wire `service_registration` → everything but the runtime-name default, filled in by the runtime schema. */
export const serviceRegistrationSchema = z
  .strictObject({
    consul: consulAgentSchema,
    service_name: matching(SERVICE_NAME_RE, (v) => `must be letters, digits, "_", "." or "-", starting with a letter or digit (got "${v}")`, 'Name the service, e.g. "orders-runtime".').optional(),
    service_id: matching(SERVICE_ID_RE, (v) => `must be letters, digits, "_", ".", ":" or "-", starting with a letter or digit (got "${v}")`, 'Leave it out to get "<service name>-<host id>", unique per process.').optional(),
    tags: z.array(nonEmptyString).default([]),
    meta: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'meta keys are letters, digits, "_" or "-"'), z.string()).default({}),
    address: nonEmptyString.optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    check: checkSchema.prefault({}),
  })
  .transform((w) => ({
    consul: { address: w.consul.address, token: w.consul.token },
    serviceName: w.service_name,
    serviceId: w.service_id,
    tags: w.tags,
    meta: w.meta,
    address: w.address,
    port: w.port,
    check: w.check,
  }));

/** Wildcard listen addresses: fine to listen on, meaningless to advertise. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

type IssueSink = Parameters<typeof addRuleIssue>[0];

/**
 * The rules that span `service_registration` and `ingress`: Consul's check calls the
 * ingress's `/health/ready`, so the ingress must be enabled, and a wildcard ingress host
 * cannot be advertised.
 */
export function checkServiceRegistration(
  registration: { readonly address?: string | undefined } | undefined,
  ingress: { readonly enabled: boolean; readonly host: string },
  ctx: IssueSink,
): void {
  if (registration === undefined) return;
  if (!ingress.enabled) {
    addRuleIssue(
      ctx,
      'service_registration needs the HTTP ingress: Consul checks the host through its /health/ready endpoint, and ingress.enabled is false',
      { ruleId: 'CONTRACT_REGISTRATION_NEEDS_INGRESS', hint: 'Set ingress.enabled: true (the default), or remove service_registration.' },
      ['service_registration'],
    );
  } else if (registration.address === undefined && WILDCARD_HOSTS.has(ingress.host)) {
    addRuleIssue(
      ctx,
      `service_registration has no address and the ingress listens on "${ingress.host}", which other services cannot dial`,
      { ruleId: 'CONTRACT_INVALID_VALUE', hint: 'Set service_registration.address to the address other services reach this host on, e.g. its pod IP or DNS name.' },
      ['service_registration', 'address'],
    );
  }
}
