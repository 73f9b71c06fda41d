/**
 * The runtime host contract: which event bus, which protocol handlers, which nodes. The
 * zod schemas read the snake_case wire form and produce the camelCase, fully-defaulted
 * shape the host is wired from; this file is the one place the two spellings meet.
 */
import { z } from 'zod';
import type { HandlerType } from '../enums/handler-type.js';
import { catalogEntries, type HandlerCatalog, type HandlerCatalogEntry } from './handler-catalog.js';
import { validateTopic, withTopicDirection, type TopicDirection } from '../topics/validate-topic.js';
import { addRuleIssue, handlerTypeSchema, matching, nonEmptyString, nonNegativeInt, positiveInt, semverString, versionTriple } from './schema-helpers.js';
import { CURRENT_CONTRACT_SCHEMA_VERSION } from './schema-version.js';
import { NODE_SLUG_RE } from '../runtime/nodes.js';
import { isPlaceholder, isTemplated, PLACEHOLDER_SOURCE, placeholderDefaults, secretValueSchema, type SecretValue } from './secret-ref.js';
import { allowedKeysAt, unknownFieldHint } from './zod-issues.js';
import { valueAt } from './draft-issue.js';
import { handlerSourceSchema, type HandlerSourceSettings } from './handler-source-schema.js';
import { budgetExcesses, budgetHint } from './timing-budget.js';
import { checkServiceRegistration, SERVICE_REGISTRATION_DEFAULTS, serviceRegistrationSchema, type ServiceRegistrationConfig } from './service-registration-schema.js';

/** Topic the runtime consumes when `event_bus.config.topics.input` is not set. */
export const DEFAULT_INPUT_TOPIC = 'onex.local.runtime.cmd.v1';
/** Topic the runtime publishes to when `event_bus.config.topics.output` is not set. */
export const DEFAULT_OUTPUT_TOPIC = 'onex.local.runtime.evt.v1';

/** Every default the contract fills in, in one place so docs and tests can quote them. */
export const RUNTIME_HOST_DEFAULTS = {
  schemaVersion: CURRENT_CONTRACT_SCHEMA_VERSION,
  maxInFlight: 16,
  drainTimeoutMs: 30_000,
  maxQueueSize: 1000,
  handlerTimeoutMs: 30_000,
  handlerPriority: 0,
  retryPolicy: { maxRetries: 3, backoffStrategy: 'exponential', baseDelayMs: 100, maxDelayMs: 5000 },
  /**
   * Every binding has a circuit breaker unless it says `circuit_breaker: { enabled: false }`:
   * the spec's defaults (threshold 5, 60 s) are sound for any remote dependency, and a host
   * that keeps calling a dead one only queues work behind it.
   */
  circuitBreaker: { enabled: true, threshold: 5, resetTimeoutMs: 60_000, halfOpenSuccesses: 1, halfOpenMaxCalls: 1 },
  /** A bulkhead with `max_concurrent` and no `max_queue` refuses at once when full. */
  bulkheadMaxQueue: 0,
  /**
   * The HTTP ingress. `requestTimeoutMs`: how long `POST /v1/envelopes` waits for its answer
   * (then 504, and the work is cancelled). `headersTimeoutMs`: time allowed to send the
   * request headers. `bodyTimeoutMs`: time allowed to send the whole request. `idleTimeoutMs`:
   * how long a connection may sit idle (keep-alive, or a silent socket) before it is closed.
   * `maxConnections`: open connections beyond this are closed at once. `readinessProbeIntervalMs`:
   * how often handler health is checked for `/health/ready`. `readyDrainDelayMs`: how long a
   * stopping host keeps serving with `/health/ready` already failing before the drain starts.
   */
  ingress: {
    host: '127.0.0.1',
    port: 8085,
    requestTimeoutMs: 30_000,
    enabled: true,
    maxConnections: 1024,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 30_000,
    idleTimeoutMs: 5_000,
    readinessProbeIntervalMs: 5_000,
    readyDrainDelayMs: 1_000,
  },
  /** Kafka event bus tuning (spec 3.11 gives the in-flight and pause figures). */
  kafka: {
    delivery: 'at_least_once',
    maxInflightEnvelopes: 100,
    pauseConsumptionThreshold: 80,
    commitIntervalMs: 200,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    rebalanceTimeoutMs: 60_000,
    stallTimeoutMs: 60_000,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 30_000,
    autoOffsetReset: 'earliest',
    outputKey: 'input',
  },
  idempotency: { store: 'memory', ttlMs: 3_600_000, maxEntries: 10_000, leaseMs: 30_000, onInterrupted: 'reexecute' },
  /** Where the host's secrets come from (`runtime.secrets`); see SecretsConfig. */
  secrets: { cacheTtlMs: 300_000, env: true, vault: { mount: 'secret', timeoutMs: 5_000, approleMountPoint: 'approle' } },
  /** `runtime.service_registration` check timings (the section itself is optional). */
  serviceRegistration: SERVICE_REGISTRATION_DEFAULTS,
  /** `runtime.observability`: Prometheus metrics on the ingress's `GET /metrics`, and logging. */
  observability: { metrics: { enabled: true, defaultMetrics: true } },
  /** `runtime.modules`: where node code may be imported from (see ModulesConfig). */
  modules: { requireIntegrity: false },
} as const;

/** pino's levels, quietest last; `LOG_LEVEL` in the environment takes precedence over the contract. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const EVENT_BUS_KINDS = ['inmemory', 'kafka'] as const;
export type EventBusKind = (typeof EVENT_BUS_KINDS)[number];

export const KAFKA_DELIVERY_MODES = ['at_least_once', 'exactly_once'] as const;
export type KafkaDeliveryMode = (typeof KAFKA_DELIVERY_MODES)[number];

export const IDEMPOTENCY_STORES = ['memory', 'postgres'] as const;
export type IdempotencyStoreKind = (typeof IDEMPOTENCY_STORES)[number];

export const INTERRUPTED_POLICIES = ['reexecute', 'dead_letter'] as const;
/** What to do with an envelope whose earlier execution was cut off (its host died mid-call). */
export type InterruptedPolicy = (typeof INTERRUPTED_POLICIES)[number];

export const BACKOFF_STRATEGIES = ['fixed', 'exponential'] as const;
export type BackoffStrategy = (typeof BACKOFF_STRATEGIES)[number];

/** How a failed handler call is retried. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. @default 3 */
  readonly maxRetries: number;
  /** @default 'exponential' */
  readonly backoffStrategy: BackoffStrategy;
  /** Delay before the first retry. @default 100 */
  readonly baseDelayMs: number;
  /** Cap on any single delay. @default 5000 */
  readonly maxDelayMs: number;
}

/**
 * Token-bucket limit on calls into one handler instance. A call over the limit waits for a
 * token up to its attempt's budget (timeout_ms, or the envelope's deadline when sooner),
 * then fails with INFRA_RATE_LIMITED and `retry_after_ms`.
 */
export interface RateLimit {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Calls allowed in a burst. @default Math.max(1, Math.ceil(perSecond)) */
  readonly burst: number;
}

/**
 * Stops calling a dependency that keeps failing at the transport level: after `threshold`
 * consecutive transport failures (connection, timeout, unavailable) calls fail fast with
 * INFRA_UNAVAILABLE for `resetTimeoutMs`; then up to `halfOpenMaxCalls` trial calls go
 * through, and `halfOpenSuccesses` successes close it again. A 4xx answer or a constraint
 * violation is the caller's problem, not the dependency's, and does not count.
 */
export interface CircuitBreakerPolicy {
  /** `false` turns the breaker off for this binding. @default true */
  readonly enabled: boolean;
  /** Consecutive transport failures that open the breaker. @default 5 */
  readonly threshold: number;
  /** How long an open breaker fails fast before it admits trial calls. @default 60000 */
  readonly resetTimeoutMs: number;
  /** Successful trial calls that close a half-open breaker. @default 1 */
  readonly halfOpenSuccesses: number;
  /** Trial calls admitted at once while half-open. @default half_open_successes */
  readonly halfOpenMaxCalls: number;
}

/**
 * A concurrency limit per handler, so one slow dependency cannot hold every slot of the
 * host (`max_in_flight`) and starve envelopes for the other handlers.
 */
export interface BulkheadPolicy {
  /** Calls into this handler at once. */
  readonly maxConcurrent: number;
  /** Calls that may wait for a free place; beyond that they fail at once with INFRA_UNAVAILABLE. @default 0 */
  readonly maxQueue: number;
}

/**
 * The policies every handler binding has, whatever its type; the runtime host applies
 * them around the handler in one order (docs/resilience.md): deadline, bulkhead, rate
 * limit, circuit breaker, timeout; retries are the host's, around all of it.
 */
export interface HandlerPolicies {
  /**
   * Budget of one attempt, from the moment it enters the policy stack: waits for the
   * bulkhead and the rate limit spend from it. Enforced with the signal handed to the handler.
   * @default 30000
   */
  readonly timeoutMs: number;
  /** Absent means calls are not retried. */
  readonly retryPolicy?: RetryPolicy | undefined;
  /** Token bucket per handler; absent means unlimited. */
  readonly rateLimit?: RateLimit | undefined;
  /** @default RUNTIME_HOST_DEFAULTS.circuitBreaker (on: threshold 5, reset 60000 ms, 1 success) */
  readonly circuitBreaker: CircuitBreakerPolicy;
  /** Absent means no per-handler limit (the host's `max_in_flight` still applies). */
  readonly bulkhead?: BulkheadPolicy | undefined;
}

/**
 * A binding's type-specific settings: the output of its handler's config schema (see
 * HandlerCatalogEntry.configSchema), frozen. Credential fields still hold a SecretValue;
 * the host resolves them.
 */
export type HandlerSettings = Readonly<Record<string, unknown>>;

/** One protocol handler the runtime registers (one per type). */
export interface HandlerBinding {
  readonly type: HandlerType;
  /** @default the handler type */
  readonly name: string;
  /** @default true */
  readonly enabled: boolean;
  /**
   * Whether the host is ready only while this handler is. A required handler that fails its
   * health check, or whose circuit breaker is open, turns `/health/ready` to 503; an optional
   * one (`required: false`, e.g. a Vault that may be sealed) only shows as unhealthy on
   * `/health/handlers`, and envelopes for it fail with their usual errors meanwhile.
   * @default true
   */
  readonly required: boolean;
  /** @default 0 */
  readonly priority: number;
  /** Reference to configuration kept outside the contract, resolved by the host. */
  readonly configRef?: string | undefined;
  /** `timeout_ms`, `retry_policy`, `rate_limit`, `circuit_breaker`, `bulkhead` from the binding's `config`. */
  readonly policies: HandlerPolicies;
  /** Every other `config` key, validated by the handler's catalog entry. */
  readonly settings: HandlerSettings;
  /**
   * The binding's whole `config` as written (wire keys, policy fields included,
   * placeholders and `secret_ref`s as they are). The host's config resolver merges it with `config_ref` and environment
   * overrides and validates the result again; everything else reads `policies`/`settings`.
   */
  readonly wireConfig: Readonly<Record<string, unknown>>;
}

export interface EventBusTopics {
  /** A `cmd` topic. @default DEFAULT_INPUT_TOPIC */
  readonly input: string;
  /** An `evt` topic. @default DEFAULT_OUTPUT_TOPIC */
  readonly output: string;
  /**
   * An `error` topic for dead-letter records (Kafka).
   * @default the input topic with the `error` signal: onex.acme.orders.cmd.v1 → onex.acme.orders.error.v1
   */
  readonly deadLetter: string;
}

/** How the Kafka event bus consumes, commits and pauses; every field has a default. */
export interface KafkaBusTuning {
  /**
   * `at_least_once`: outputs are acknowledged by the broker before the input offset is
   * committed. `exactly_once`: outputs and input offsets are written in one Kafka
   * transaction, so a `read_committed` reader sees each response once.
   * @default 'at_least_once'
   */
  readonly delivery: KafkaDeliveryMode;
  /** Hard cap on fetched envelopes not yet finished (queued or processing). @default 100 */
  readonly maxInflightEnvelopes: number;
  /** Fetching pauses once this many envelopes are unfinished; resumes at half. @default 80 */
  readonly pauseConsumptionThreshold: number;
  /** How often finished offsets are committed (or transactions closed). @default 200 */
  readonly commitIntervalMs: number;
  /** @default 30000 */
  readonly sessionTimeoutMs: number;
  /** @default 3000 */
  readonly heartbeatIntervalMs: number;
  /** @default 60000 */
  readonly rebalanceTimeoutMs: number;
  /** Not ready when lag exists and nothing finished for this long (a zombie consumer). @default 60000 */
  readonly stallTimeoutMs: number;
  /** @default 3000 */
  readonly connectionTimeoutMs: number;
  /** @default 30000 */
  readonly requestTimeoutMs: number;
  /** Where a consumer group without a committed offset starts. @default 'earliest' */
  readonly autoOffsetReset: 'earliest' | 'latest';
  /**
   * The key of each answer on the output topic. `input`: the key of the record it answers,
   * so one key's answers land on one partition in order (a record without a key, and an
   * envelope published without an input record, fall back to the correlation id).
   * `correlation_id`: the answer's correlation id, spreading one key's answers over partitions.
   * Dead-letter records always keep the original key.
   * @default 'input'
   */
  readonly outputKey: 'input' | 'correlation_id';
}

export interface EventBusConfig {
  readonly kind: EventBusKind;
  /**
   * Kafka brokers as written; entries may be `${NAME}` placeholders or comma-separated
   * lists, which the composition root expands. Empty for `inmemory`.
   * @default []
   */
  readonly bootstrapServers: readonly string[];
  /** @default the runtime name */
  readonly consumerGroup: string;
  /** @default the runtime name */
  readonly clientId: string;
  readonly topics: EventBusTopics;
  /** In-memory bus: envelopes buffered per topic before publishers wait. @default 1000 */
  readonly maxQueueSize: number;
  /** Kafka bus tuning; defaults for `inmemory`, where it is not used. */
  readonly kafka: KafkaBusTuning;
}

/**
 * Where the host remembers finished envelope ids, so a redelivered envelope is answered
 * from the stored response instead of being executed again.
 */
export interface IdempotencyConfig {
  /** `memory` (bounded, per process) or `postgres` (shared by hosts, survives restarts). @default 'memory' */
  readonly store: IdempotencyStoreKind;
  /** postgres: connection URL, usually a secret_ref. */
  readonly url?: SecretValue | undefined;
  /** How long a finished envelope's response is kept. @default 3600000 */
  readonly ttlMs: number;
  /** memory: most finished envelopes kept. @default 10000 */
  readonly maxEntries: number;
  /** How long a claim on an unfinished envelope holds before another host may take it over. @default 30000 */
  readonly leaseMs: number;
  /**
   * An envelope whose earlier execution was cut off (its host died mid-call) is executed
   * again (`reexecute`: side effects at least once), or answered with an
   * EXECUTION_INTERRUPTED error and dead-lettered for a person to decide (`dead_letter`:
   * side effects at most once).
   * @default 'reexecute'
   */
  readonly onInterrupted: InterruptedPolicy;
}

/** A node the runtime hosts. */
export interface NodeRef {
  readonly slug: string;
  /** Path of the node contract, relative to the runtime contract's directory; kept as text. */
  readonly contract?: string | undefined;
}

/** The local HTTP ingress that accepts envelopes. */
export interface IngressConfig {
  /** @default '127.0.0.1' */
  readonly host: string;
  /** 0 lets the OS pick a free port. @default 8085 */
  readonly port: number;
  /** @default 30000 */
  readonly requestTimeoutMs: number;
  /** @default true */
  readonly enabled: boolean;
  /**
   * Bearer tokens callers must present (`Authorization: Bearer <token>`), one per named
   * client. Empty: no authentication, which is only allowed on a loopback address.
   * @default []
   */
  readonly authTokens: readonly IngressAuthToken[];
  /** @default 1024 */
  readonly maxConnections: number;
  /** @default 10000 */
  readonly headersTimeoutMs: number;
  /** @default 30000 */
  readonly bodyTimeoutMs: number;
  /** @default 5000 */
  readonly idleTimeoutMs: number;
  /** @default 5000 */
  readonly readinessProbeIntervalMs: number;
  /**
   * How long a stopping host keeps serving with `/health/ready` already failing before its
   * drain starts, so load balancers stop sending first. Set it to the probe period times
   * the failure threshold of what reads `/health/ready` (Kubernetes, Consul, a load balancer).
   * @default 1000
   */
  readonly readyDrainDelayMs: number;
  /**
   * Token bucket per caller on `POST /v1/envelopes`: one per authenticated client (per
   * `auth_tokens` entry), or one per remote address when the ingress has no tokens. A
   * request over it is answered 429 with `Retry-After` and INFRA_RATE_LIMITED
   * (`retry_after_ms`), unexecuted. `burst` defaults to ⌈per_second⌉.
   * @default undefined (no limit)
   */
  readonly rateLimit?: RateLimit | undefined;
}

/** A client allowed to call the ingress, and where its token lives (never the token itself). */
export interface IngressAuthToken {
  /** Names the client in logs and scopes its envelope ids (idempotency). */
  readonly client: string;
  /** `{ secret_ref: "env://NAME" }` or a `${NAME}` placeholder. */
  readonly token: SecretValue;
}

/** How the host authenticates to Vault; the credentials are references, never values. */
export type VaultAuthConfig =
  | { readonly method: 'token'; readonly token: SecretValue }
  | {
      readonly method: 'approle';
      readonly roleId: SecretValue;
      readonly secretId: SecretValue;
      /** Where the AppRole auth method is mounted. @default 'approle' */
      readonly mountPoint: string;
    };

/** Vault (or OpenBao) as the first secret source. */
export interface VaultSecretsConfig {
  /** e.g. `https://vault.internal:8200`, usually `${VAULT_ADDR}`. */
  readonly address: string;
  /** The KV v2 mount. @default 'secret' */
  readonly mount: string;
  /** Logical names live under `<mount>/data/<pathPrefix>/`. Absent: directly under the mount. */
  readonly pathPrefix?: string | undefined;
  /** Budget of one Vault request. @default 5000 */
  readonly timeoutMs: number;
  /**
   * Vault's own credentials. They cannot come from Vault: `env://`, `${NAME}` or a file in
   * `files_dir`, read even when `env: false`.
   */
  readonly auth: VaultAuthConfig;
}

/**
 * Where the host's secrets come from (`runtime.secrets`), asked in this order: Vault (when
 * configured), the environment (unless `env: false`), the mounted secrets directory
 * (when `files_dir` is set). Contracts name secrets; this says where they live.
 */
export interface SecretsConfig {
  /** How long a secret without a lease is reused before it is looked up again. @default 300000 */
  readonly cacheTtlMs: number;
  /** Environment variables as a secret source. @default true */
  readonly env: boolean;
  /** A mounted secrets directory, one file per secret (Kubernetes). Absent: no file source. */
  readonly filesDir?: string | undefined;
  /** Absent: no Vault source. */
  readonly vault?: VaultSecretsConfig | undefined;
}

export interface RuntimeSettings {
  readonly name: string;
  readonly version: string;
  readonly description?: string | undefined;
  readonly eventBus: EventBusConfig;
  readonly handlers: readonly HandlerBinding[];
  readonly nodes: readonly NodeRef[];
  /** Envelopes processed concurrently. @default 16 */
  readonly maxInFlight: number;
  /** Time allowed for in-flight work on shutdown. @default 30000 */
  readonly drainTimeoutMs: number;
  readonly ingress: IngressConfig;
  readonly idempotency: IdempotencyConfig;
  /** Where handler descriptors come from (handler-source-schema.ts). */
  readonly handlerSource: HandlerSourceSettings;
  /** Where secrets come from. @default env on, no files, no Vault, 5 minute cache */
  readonly secrets: SecretsConfig;
  /** Register this host in Consul while it runs (service-registration-schema.ts). Absent: no registration. */
  readonly serviceRegistration?: ServiceRegistrationConfig | undefined;
  /** Metrics and logging. @default metrics on with process metrics; log level from LOG_LEVEL, else info */
  readonly observability: ObservabilityConfig;
  /** Where node code may be imported from. @default the contract's directory tree, no packages */
  readonly modules: ModulesConfig;
}

/** `runtime.observability.metrics`: the host's Prometheus metrics. */
export interface MetricsConfig {
  /**
   * Count and time what the host does and serve it on the ingress's `GET /metrics`. Off:
   * nothing is counted (the benchmark's baseline) and `/metrics` answers 404.
   * @default true
   */
  readonly enabled: boolean;
  /** Also export prom-client's default process metrics (CPU, memory, event loop lag, GC). @default true */
  readonly defaultMetrics: boolean;
}

/** `runtime.observability.logging`. */
export interface LoggingConfig {
  /** The log level when `LOG_LEVEL` is not set in the environment. Absent: `info`. */
  readonly level?: LogLevel | undefined;
}

/** `runtime.observability`: what the host tells operators about itself. */
export interface ObservabilityConfig {
  readonly metrics: MetricsConfig;
  readonly logging: LoggingConfig;
}

/**
 * `runtime.modules`: where node code (`implementation: { module }` in node contracts) may
 * come from. The contract's own directory tree is always allowed.
 */
export interface ModulesConfig {
  /** More directories modules may live in, relative to the runtime contract's directory. @default [] */
  readonly allowedRoots: readonly string[];
  /** Package names (`@acme/pricing`) a node may name as its module. @default [] */
  readonly allowedPackages: readonly string[];
  /**
   * Every module must carry a `sha256` when the host runs in production
   * (`ENVIRONMENT=prod`); elsewhere a missing hash is a warning.
   * @default false
   */
  readonly requireIntegrity: boolean;
}

/** A parsed runtime host contract: frozen, every default filled in. */
export interface RuntimeHostContract {
  /** @default '1.0.0' */
  readonly schemaVersion: string;
  readonly runtime: RuntimeSettings;
}

const TOPIC_HINTS: Partial<Record<string, string>> = {
  RESERVED_NAMESPACE: 'Use your own tenant segment, e.g. "onex.acme.orders.cmd.v1"; internal, debug, metrics, health and admin are reserved.',
};

function topicSchema(direction: TopicDirection, field: 'input' | 'output' | 'dead_letter'): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const result = validateTopic(value);
    if (!result.valid) {
      addRuleIssue(ctx, `Invalid ${field} topic "${value}": ${result.reason}`, {
        ruleId: 'CONTRACT_INVALID_TOPIC',
        hint: TOPIC_HINTS[result.code] ?? 'Name topics onex.<tenant>.<domain>.<cmd|evt|error>.v<N> with lower-case segments, e.g. "onex.acme.orders.cmd.v1".',
      });
    } else if (result.direction !== direction) {
      // Input carries requests into the runtime (cmd), output carries its events (evt).
      addRuleIssue(ctx, `The ${field} topic "${value}" has direction "${result.direction}"; ${field} must be a "${direction}" topic`, {
        ruleId: 'CONTRACT_INVALID_TOPIC',
        hint: `Use "onex.${result.tenant}.${result.domain}.${direction}.v${result.version}" for ${field}.`,
      });
    }
  });
}

const topicsSchema = z
  .strictObject({
    input: topicSchema('cmd', 'input').default(DEFAULT_INPUT_TOPIC),
    output: topicSchema('evt', 'output').default(DEFAULT_OUTPUT_TOPIC),
    dead_letter: topicSchema('error', 'dead_letter').optional(),
  })
  .superRefine((t, ctx) => {
    const names = [t.input, t.output, ...(t.dead_letter === undefined ? [] : [t.dead_letter])];
    if (new Set(names).size !== names.length) {
      addRuleIssue(ctx, 'input, output and dead_letter must be three different topics', {
        ruleId: 'CONTRACT_INVALID_TOPIC',
        hint: 'A runtime that answered onto its own input would consume its answers; give each direction its own topic.',
      });
    }
  })
  .transform((t): EventBusTopics => ({
    input: t.input,
    output: t.output,
    // The input topic is valid here, so the derived name is too.
    deadLetter: t.dead_letter ?? (withTopicDirection(t.input, 'error') as string),
  }));

const KAFKA = RUNTIME_HOST_DEFAULTS.kafka;
/** Kafka-only settings; on an `inmemory` bus they are refused rather than silently ignored. */
const KAFKA_ONLY_FIELDS = [
  'bootstrap_servers',
  'consumer_group',
  'client_id',
  'delivery',
  'max_inflight_envelopes',
  'pause_consumption_threshold',
  'commit_interval_ms',
  'session_timeout_ms',
  'heartbeat_interval_ms',
  'rebalance_timeout_ms',
  'stall_timeout_ms',
  'connection_timeout_ms',
  'request_timeout_ms',
  'auto_offset_reset',
  'output_key',
] as const;

/** `host:port`, or a `${NAME}` placeholder the composition root expands (to a comma-separated list). */
const BROKER_RE = new RegExp(String.raw`^(?:${PLACEHOLDER_SOURCE}|[A-Za-z0-9.-]+:\d{1,5}|\[[0-9A-Fa-f:]+\]:\d{1,5})$`);
const brokerSchema = matching(
  BROKER_RE,
  (v) => `must be a broker address "host:port" or a \${NAME} placeholder (got "${v}")`,
  'Write e.g. bootstrap_servers: "127.0.0.1:9092" or "${KAFKA_BOOTSTRAP_SERVERS}" (comma-separated in the variable).',
);

const eventBusWireSchema = z
  .strictObject({
    kind: z.enum(EVENT_BUS_KINDS),
    config: z
      .strictObject({
        bootstrap_servers: z.union([brokerSchema, z.array(brokerSchema).min(1)], { error: 'must be a string or a list of strings' }).optional(),
        consumer_group: nonEmptyString.optional(),
        client_id: nonEmptyString.optional(),
        topics: topicsSchema.prefault({}),
        max_queue_size: positiveInt.default(RUNTIME_HOST_DEFAULTS.maxQueueSize),
        delivery: z.enum(KAFKA_DELIVERY_MODES).optional(),
        max_inflight_envelopes: positiveInt.optional(),
        pause_consumption_threshold: positiveInt.optional(),
        commit_interval_ms: positiveInt.optional(),
        session_timeout_ms: z.number().int().min(6_000).max(300_000).optional(),
        heartbeat_interval_ms: positiveInt.optional(),
        rebalance_timeout_ms: positiveInt.optional(),
        stall_timeout_ms: positiveInt.optional(),
        connection_timeout_ms: positiveInt.optional(),
        request_timeout_ms: positiveInt.optional(),
        auto_offset_reset: z.enum(['earliest', 'latest']).optional(),
        output_key: z.enum(['input', 'correlation_id']).optional(),
      })
      .prefault({}),
  })
  .superRefine((bus, ctx) => {
    const c = bus.config;
    if (bus.kind === 'inmemory') {
      for (const field of KAFKA_ONLY_FIELDS) {
        if (c[field] !== undefined) {
          addRuleIssue(
            ctx,
            `Field "${field}" applies only to kind: kafka`,
            { ruleId: 'CONTRACT_UNKNOWN_FIELD', hint: `Remove "${field}", or set event_bus.kind: kafka.`, target: 'key' },
            ['config', field],
          );
        }
      }
      return;
    }
    const max = c.max_inflight_envelopes ?? KAFKA.maxInflightEnvelopes;
    const pause = c.pause_consumption_threshold ?? Math.min(KAFKA.pauseConsumptionThreshold, max);
    if (pause > max) {
      addRuleIssue(
        ctx,
        `must not exceed max_inflight_envelopes (${max}), got ${pause}`,
        { hint: 'Fetching pauses at pause_consumption_threshold, before the hard cap max_inflight_envelopes is reached; lower the threshold or raise the cap.' },
        ['config', 'pause_consumption_threshold'],
      );
    }
    const session = c.session_timeout_ms ?? KAFKA.sessionTimeoutMs;
    const heartbeat = c.heartbeat_interval_ms ?? KAFKA.heartbeatIntervalMs;
    if (heartbeat * 3 > session) {
      addRuleIssue(
        ctx,
        `must be at most a third of session_timeout_ms (${session}), got ${heartbeat}`,
        { hint: 'Kafka evicts a member that misses heartbeats for session_timeout_ms; send at least three per session.' },
        ['config', 'heartbeat_interval_ms'],
      );
    }
    if (bus.kind === 'kafka' && bus.config.bootstrap_servers === undefined) {
      addRuleIssue(
        ctx,
        'Missing required field "bootstrap_servers" in runtime.event_bus.config (required for kind: kafka)',
        { ruleId: 'CONTRACT_MISSING_FIELD', hint: 'Add config.bootstrap_servers, e.g. bootstrap_servers: "${KAFKA_BOOTSTRAP_SERVERS}".', target: 'key' },
        ['config', 'bootstrap_servers'],
      );
    }
  });

/** Wire `retry_policy` → {@link RetryPolicy}. */
export const retryPolicySchema = z
  .strictObject({
    max_retries: nonNegativeInt.default(RUNTIME_HOST_DEFAULTS.retryPolicy.maxRetries),
    backoff_strategy: z.enum(BACKOFF_STRATEGIES).default(RUNTIME_HOST_DEFAULTS.retryPolicy.backoffStrategy),
    base_delay_ms: positiveInt.default(RUNTIME_HOST_DEFAULTS.retryPolicy.baseDelayMs),
    max_delay_ms: positiveInt.default(RUNTIME_HOST_DEFAULTS.retryPolicy.maxDelayMs),
  })
  .superRefine((policy, ctx) => {
    if (policy.base_delay_ms > policy.max_delay_ms) {
      addRuleIssue(
        ctx,
        `must be at least base_delay_ms (${policy.base_delay_ms}), got ${policy.max_delay_ms}`,
        { hint: 'Raise max_delay_ms or lower base_delay_ms; the cap cannot be below the first delay.' },
        ['max_delay_ms'],
      );
    }
  })
  .transform(
    (w): RetryPolicy => ({
      maxRetries: w.max_retries,
      backoffStrategy: w.backoff_strategy,
      baseDelayMs: w.base_delay_ms,
      maxDelayMs: w.max_delay_ms,
    }),
  );

const rateLimitSchema = z
  .strictObject({ per_second: z.number().positive(), burst: positiveInt.optional() })
  .transform((w): RateLimit => ({ perSecond: w.per_second, burst: w.burst ?? Math.max(1, Math.ceil(w.per_second)) }));

const BREAKER = RUNTIME_HOST_DEFAULTS.circuitBreaker;
const circuitBreakerSchema = z
  .strictObject({
    enabled: z.boolean().default(BREAKER.enabled),
    threshold: positiveInt.default(BREAKER.threshold),
    reset_timeout_ms: positiveInt.default(BREAKER.resetTimeoutMs),
    half_open_successes: positiveInt.default(BREAKER.halfOpenSuccesses),
    half_open_max_calls: positiveInt.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.half_open_max_calls !== undefined && w.half_open_max_calls < w.half_open_successes) {
      addRuleIssue(
        ctx,
        `must be at least half_open_successes (${w.half_open_successes}), got ${w.half_open_max_calls}`,
        { hint: 'A half-open breaker closes after half_open_successes trial calls succeed; admit at least that many.' },
        ['half_open_max_calls'],
      );
    }
  })
  .transform(
    (w): CircuitBreakerPolicy => ({
      enabled: w.enabled,
      threshold: w.threshold,
      resetTimeoutMs: w.reset_timeout_ms,
      halfOpenSuccesses: w.half_open_successes,
      halfOpenMaxCalls: w.half_open_max_calls ?? w.half_open_successes,
    }),
  );

const bulkheadSchema = z
  .strictObject({ max_concurrent: positiveInt, max_queue: nonNegativeInt.default(RUNTIME_HOST_DEFAULTS.bulkheadMaxQueue) })
  .transform((w): BulkheadPolicy => ({ maxConcurrent: w.max_concurrent, maxQueue: w.max_queue }));

/** The `config` keys core validates for every handler type; the rest belong to the handler. */
export const HANDLER_POLICY_FIELDS = ['timeout_ms', 'retry_policy', 'rate_limit', 'circuit_breaker', 'bulkhead'] as const;

const handlerPoliciesSchema = z
  .strictObject({
    timeout_ms: positiveInt.default(RUNTIME_HOST_DEFAULTS.handlerTimeoutMs),
    retry_policy: retryPolicySchema.optional(),
    rate_limit: rateLimitSchema.optional(),
    circuit_breaker: circuitBreakerSchema.prefault({}),
    bulkhead: bulkheadSchema.optional(),
  })
  .transform(
    (w): HandlerPolicies => ({ timeoutMs: w.timeout_ms, retryPolicy: w.retry_policy, rateLimit: w.rate_limit, circuitBreaker: w.circuit_breaker, bulkhead: w.bulkhead }),
  );

type IssueSink = Pick<z.core.$RefinementCtx, 'addIssue'>;

/**
 * Re-raises the issues of a nested parse under `config`, so they keep their own codes and
 * params and land at `runtime.handlers[i].config.<key>`. Unknown keys become
 * CONTRACT_UNKNOWN_FIELD issues listing every key this handler's config accepts.
 */
function forwardIssues(ctx: IssueSink, issues: readonly z.core.$ZodIssue[], type: string, allowed: readonly string[]): void {
  for (const issue of issues) {
    const path = ['config', ...issue.path.filter((s): s is string | number => typeof s !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        addRuleIssue(
          ctx,
          `Unknown field "${key}" in the ${type} handler's config`,
          { ruleId: 'CONTRACT_UNKNOWN_FIELD', hint: unknownFieldHint(key, allowed), target: 'key' },
          [...path, key],
        );
      }
    } else {
      ctx.addIssue({ ...issue, path });
    }
  }
}

/**
 * Wire handler entry → {@link HandlerBinding}. Core checks the generic parts (type against
 * the catalog, name, enabled, priority, config_ref, the policy fields) and hands the other
 * `config` keys to the handler's own schema from the catalog.
 */
export function handlerBindingSchema(catalog: HandlerCatalog) {
  const entries = catalogEntries(catalog);
  const types = entries.map((e) => e.type);
  const devOnly = entries.filter((e) => e.devOnly).map((e) => e.type);
  return z
    .strictObject({
      type: handlerTypeSchema(types, devOnly),
      name: nonEmptyString.optional(),
      enabled: z.boolean().default(true),
      required: z.boolean().default(true),
      priority: z.number().int().default(RUNTIME_HOST_DEFAULTS.handlerPriority),
      config_ref: nonEmptyString.optional(),
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .transform((w, ctx): HandlerBinding => {
      const entry = catalog[w.type];
      // handlerTypeSchema only lets catalog types through; this keeps the compiler honest.
      if (entry === undefined) return z.NEVER;
      const policyWire: Record<string, unknown> = {};
      const rest: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(w.config)) {
        if ((HANDLER_POLICY_FIELDS as readonly string[]).includes(key)) policyWire[key] = value;
        else rest[key] = value;
      }
      const allowed = [...HANDLER_POLICY_FIELDS, ...allowedKeysAt(entry.configSchema, [])];
      const policies = handlerPoliciesSchema.safeParse(policyWire);
      const settings = entry.configSchema.safeParse(rest);
      // With a config_ref, a required key may live in that file: only the host, which
      // reads it, can tell whether it is missing. Everything written inline is still checked.
      const deferred = w.config_ref !== undefined;
      const settingsIssues = settings.success ? [] : settings.error.issues.filter((i) => !(deferred && valueAt(rest, i.path.filter((s): s is string | number => typeof s !== 'symbol')) === undefined));
      if (!policies.success) forwardIssues(ctx, policies.error.issues, w.type, allowed);
      if (settingsIssues.length > 0) forwardIssues(ctx, settingsIssues, w.type, allowed);
      if (!policies.success || settingsIssues.length > 0) return z.NEVER;
      return {
        type: w.type,
        name: w.name ?? w.type,
        enabled: w.enabled,
        required: w.required,
        priority: w.priority,
        configRef: w.config_ref,
        policies: policies.data,
        // Frozen with the rest of the contract (deepFreeze also drops undefined keys).
        // Empty when the config is completed from config_ref: the host resolves it.
        settings: settings.success ? { ...settings.data } : {},
        wireConfig: w.config,
      };
    });
}

/**
 * The input side of a binding for one handler type, for the JSON Schema: the generic
 * fields plus `config` = policy fields ∪ the handler's own keys.
 */
function handlerBindingDocSchema(entry: HandlerCatalogEntry) {
  const unitObject = inputObjectOf(entry.configSchema);
  const policyShape = (handlerPoliciesSchema.in as z.ZodObject).shape;
  return z.strictObject({
    type: z.literal(entry.type).describe(entry.devOnly ? `${entry.type} (development only)` : entry.type),
    name: nonEmptyString.optional(),
    enabled: z.boolean().default(true),
    required: z.boolean().default(true),
    priority: z.number().int().default(RUNTIME_HOST_DEFAULTS.handlerPriority),
    config_ref: nonEmptyString.optional(),
    config: z.strictObject({ ...policyShape, ...(unitObject?.shape ?? {}) }).optional(),
  });
}

/** The object schema under refinements and transforms, or undefined for other schemas. */
function inputObjectOf(schema: z.ZodType): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodPipe) return inputObjectOf(schema.in as z.ZodType);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) return inputObjectOf(schema.unwrap() as z.ZodType);
  return undefined;
}

/** Wire node entry → {@link NodeRef}. */
export const nodeRefSchema = z
  .strictObject({
    slug: matching(NODE_SLUG_RE, (v) => `must be lower-case letters, digits, "_" and "-", starting with a letter or digit (got "${v}")`, 'Rename the node slug, e.g. "user_service_effect".'),
    contract: nonEmptyString
      .superRefine((value, ctx) => {
        if (value.startsWith('~')) {
          addRuleIssue(ctx, 'must not start with "~": home-directory expansion is not supported', {
            hint: 'Write the path relative to this contract file, or as an absolute path.',
          });
        }
      })
      .optional(),
  })
  .transform((w): NodeRef => ({ slug: w.slug, contract: w.contract }));

const INGRESS = RUNTIME_HOST_DEFAULTS.ingress;
/** Client names go into logs and idempotency keys: a slug keeps both unambiguous. */
const INGRESS_CLIENT_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ingressAuthTokenSchema = z
  .strictObject({
    client: matching(INGRESS_CLIENT_RE, (v) => `must be lower-case letters, digits, "_", "." and "-", starting with a letter or digit (got "${v}")`, 'Name the caller, e.g. client: "orders-api".'),
    token: secretValueSchema.superRefine((value, ctx) => {
      // A token written into the contract would sit in git and in every copy of the file.
      // `${NAME:-token}` writes the token into the contract as its default.
      if (typeof value === 'string' && (!isPlaceholder(value) || placeholderDefaults(value).length > 0)) {
        addRuleIssue(ctx, 'must not be a literal token', {
          ruleId: 'CONTRACT_INLINE_SECRET',
          hint: 'Point at it instead: token: { secret_ref: "env://ONEX_INGRESS_TOKEN_ORDERS" } (or "${ONEX_INGRESS_TOKEN_ORDERS}").',
        });
      }
    }),
  })
  .transform((w): IngressAuthToken => ({ client: w.client, token: w.token }));

const ingressSchema = z
  .strictObject({
    host: nonEmptyString.default(INGRESS.host),
    port: z.number().int().min(0).max(65535).default(INGRESS.port),
    request_timeout_ms: positiveInt.default(INGRESS.requestTimeoutMs),
    enabled: z.boolean().default(INGRESS.enabled),
    auth_tokens: z.array(ingressAuthTokenSchema).default([]),
    max_connections: positiveInt.default(INGRESS.maxConnections),
    headers_timeout_ms: positiveInt.default(INGRESS.headersTimeoutMs),
    body_timeout_ms: positiveInt.default(INGRESS.bodyTimeoutMs),
    idle_timeout_ms: positiveInt.default(INGRESS.idleTimeoutMs),
    readiness_probe_interval_ms: positiveInt.default(INGRESS.readinessProbeIntervalMs),
    ready_drain_delay_ms: nonNegativeInt.default(INGRESS.readyDrainDelayMs),
    rate_limit: rateLimitSchema.optional(),
  })
  .superRefine((w, ctx) => {
    const seen = new Set<string>();
    w.auth_tokens.forEach((t, i) => {
      if (seen.has(t.client)) addRuleIssue(ctx, `client "${t.client}" is listed twice`, { hint: 'Give each client one entry; rotate a token by changing the secret it points at.' }, ['auth_tokens', i, 'client']);
      seen.add(t.client);
    });
  })
  .transform(
    (w): IngressConfig => ({
      host: w.host,
      port: w.port,
      requestTimeoutMs: w.request_timeout_ms,
      enabled: w.enabled,
      authTokens: w.auth_tokens,
      maxConnections: w.max_connections,
      headersTimeoutMs: w.headers_timeout_ms,
      bodyTimeoutMs: w.body_timeout_ms,
      idleTimeoutMs: w.idle_timeout_ms,
      readinessProbeIntervalMs: w.readiness_probe_interval_ms,
      readyDrainDelayMs: w.ready_drain_delay_ms,
      ...(w.rate_limit === undefined ? {} : { rateLimit: w.rate_limit }),
    }),
  );

const IDEM = RUNTIME_HOST_DEFAULTS.idempotency;
const idempotencySchema = z
  .strictObject({
    store: z.enum(IDEMPOTENCY_STORES).default(IDEM.store),
    url: secretValueSchema.optional(),
    ttl_ms: positiveInt.default(IDEM.ttlMs),
    max_entries: positiveInt.default(IDEM.maxEntries),
    lease_ms: positiveInt.default(IDEM.leaseMs),
    on_interrupted: z.enum(INTERRUPTED_POLICIES).default(IDEM.onInterrupted),
  })
  .superRefine((w, ctx) => {
    if (w.store === 'postgres' && w.url === undefined) {
      addRuleIssue(
        ctx,
        'Missing required field "url" in runtime.idempotency (required for store: postgres)',
        { ruleId: 'CONTRACT_MISSING_FIELD', hint: 'Add url: { secret_ref: "env://ONEX_IDEMPOTENCY_PG_URL" } (a postgres:// URL).', target: 'key' },
        ['url'],
      );
    }
    if (w.store === 'memory' && w.url !== undefined) {
      addRuleIssue(ctx, 'Field "url" applies only to store: postgres', { ruleId: 'CONTRACT_UNKNOWN_FIELD', hint: 'Remove url, or set store: postgres.', target: 'key' }, ['url']);
    }
    if (typeof w.url === 'string' && !isTemplated(w.url) && !/^postgres(?:ql)?:\/\/\S+$/.test(w.url)) {
      addRuleIssue(ctx, 'must be a "postgres://…" URL', { hint: 'Write e.g. url: { secret_ref: "env://ONEX_IDEMPOTENCY_PG_URL" }.' }, ['url']);
    }
  })
  .transform(
    (w): IdempotencyConfig => ({ store: w.store, url: w.url, ttlMs: w.ttl_ms, maxEntries: w.max_entries, leaseMs: w.lease_ms, onInterrupted: w.on_interrupted }),
  );

const SECRETS = RUNTIME_HOST_DEFAULTS.secrets;

/** A credential of Vault itself: a reference or placeholder, and never one into Vault. */
const vaultCredentialSchema = secretValueSchema.superRefine((value, ctx) => {
  if (typeof value === 'string' && (!isPlaceholder(value) || placeholderDefaults(value).length > 0)) {
    addRuleIssue(ctx, 'must not be a literal credential', {
      ruleId: 'CONTRACT_INLINE_SECRET',
      hint: 'Point at it instead: { secret_ref: "env://VAULT_TOKEN" } (or "${VAULT_TOKEN}"), or a file in files_dir.',
    });
  } else if (typeof value !== 'string' && value.scheme === 'vault') {
    addRuleIssue(ctx, "Vault's own credentials cannot come from Vault", {
      hint: 'Read them from the environment ({ secret_ref: "env://VAULT_TOKEN" }) or a mounted file (a ${NAME} placeholder or env:// reference set by the platform).',
    });
  }
});

/** A path segment list like `onex` or `team/app`: no leading or trailing `/`, no `..`. */
const VAULT_PATH_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/**
 * Vault for the host's secrets. Auth uses the same keys as a vault handler binding
 * (`auth_method`, `token` | `role_id` + `secret_id`, `approle_mount`), so Vault is
 * configured one way wherever it appears.
 */
const vaultSecretsSchema = z
  .strictObject({
    address: nonEmptyString.superRefine((value, ctx) => {
      if (!isTemplated(value) && !/^https?:\/\/[^\s/?#@]+\/?$/.test(value)) {
        addRuleIssue(ctx, 'must be an http:// or https:// address (no credentials, no path) or a ${NAME} placeholder', { hint: 'Write e.g. address: "${VAULT_ADDR}" or "https://vault.internal:8200".' });
      }
    }),
    mount: matching(VAULT_PATH_RE, (v) => `must be a Vault mount path (got "${v}")`, 'Write e.g. mount: secret').default(SECRETS.vault.mount),
    path_prefix: matching(VAULT_PATH_RE, (v) => `must be a relative path without ".." (got "${v}")`, 'Write e.g. path_prefix: onex').optional(),
    timeout_ms: positiveInt.default(SECRETS.vault.timeoutMs),
    auth_method: z.enum(['token', 'approle']),
    token: vaultCredentialSchema.optional(),
    // A role id identifies, it does not authenticate; still kept out of the contract text.
    role_id: vaultCredentialSchema.optional(),
    secret_id: vaultCredentialSchema.optional(),
    approle_mount: matching(VAULT_PATH_RE, (v) => `must be a Vault mount path (got "${v}")`, 'Write e.g. approle_mount: approle').optional(),
  })
  .superRefine((w, ctx) => {
    const need = w.auth_method === 'token' ? (['token'] as const) : (['role_id', 'secret_id'] as const);
    const refuse = w.auth_method === 'token' ? (['role_id', 'secret_id', 'approle_mount'] as const) : (['token'] as const);
    for (const key of need) {
      if (w[key] === undefined) addRuleIssue(ctx, `Missing required field "${key}" (auth_method ${w.auth_method})`, { ruleId: 'CONTRACT_MISSING_FIELD', hint: `Add ${key}: { secret_ref: "env://VAULT_${key.toUpperCase()}" }.`, target: 'key' }, [key]);
    }
    for (const key of refuse) {
      if (w[key] !== undefined) addRuleIssue(ctx, `Field "${key}" does not apply to auth_method ${w.auth_method}`, { ruleId: 'CONTRACT_UNKNOWN_FIELD', hint: `Remove ${key}, or change auth_method.`, target: 'key' }, [key]);
    }
  })
  .transform((w): VaultSecretsConfig => {
    // superRefine made sure the method's credentials are there; '' never reaches a resolver.
    const auth: VaultAuthConfig =
      w.auth_method === 'token'
        ? { method: 'token', token: w.token ?? '' }
        : { method: 'approle', roleId: w.role_id ?? '', secretId: w.secret_id ?? '', mountPoint: w.approle_mount ?? SECRETS.vault.approleMountPoint };
    return { address: w.address, mount: w.mount, pathPrefix: w.path_prefix, timeoutMs: w.timeout_ms, auth };
  });

/** An npm package name, scoped or not: what `allowed_packages` lists. */
const PACKAGE_NAME_RE = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

const modulesSchema = z
  .strictObject({
    allowed_roots: z
      .array(
        nonEmptyString.superRefine((value, ctx) => {
          if (value.startsWith('~')) addRuleIssue(ctx, 'must not start with "~": home-directory expansion is not supported', { hint: 'Write the directory relative to this contract file, or as an absolute path.' });
        }),
      )
      .default([]),
    allowed_packages: z.array(matching(PACKAGE_NAME_RE, (v) => `must be an npm package name like "@acme/pricing" (got "${v}")`, 'List package names only: no version, path or URL.')).default([]),
    require_integrity: z.boolean().default(RUNTIME_HOST_DEFAULTS.modules.requireIntegrity),
  })
  .transform((w): ModulesConfig => ({ allowedRoots: w.allowed_roots, allowedPackages: w.allowed_packages, requireIntegrity: w.require_integrity }));

const secretsSchema = z
  .strictObject({
    cache_ttl_ms: nonNegativeInt.default(SECRETS.cacheTtlMs),
    env: z.boolean().default(SECRETS.env),
    files_dir: nonEmptyString.optional(),
    vault: vaultSecretsSchema.optional(),
  })
  .transform((w): SecretsConfig => ({ cacheTtlMs: w.cache_ttl_ms, env: w.env, filesDir: w.files_dir, vault: w.vault }));

const OBS = RUNTIME_HOST_DEFAULTS.observability;
const observabilitySchema = z
  .strictObject({
    metrics: z
      .strictObject({
        enabled: z.boolean().default(OBS.metrics.enabled),
        default_metrics: z.boolean().default(OBS.metrics.defaultMetrics),
      })
      .prefault({}),
    logging: z.strictObject({ level: z.enum(LOG_LEVELS).optional() }).prefault({}),
  })
  .transform(
    (w): ObservabilityConfig => ({
      metrics: { enabled: w.metrics.enabled, defaultMetrics: w.metrics.default_metrics },
      logging: { level: w.logging.level },
    }),
  );

const runtimeSchema = (handlers: z.ZodType<HandlerBinding, unknown>) => z
  .strictObject({
    name: nonEmptyString,
    version: semverString,
    description: z.string().optional(),
    event_bus: eventBusWireSchema,
    handlers: z.array(handlers),
    nodes: z.array(nodeRefSchema),
    max_in_flight: positiveInt.default(RUNTIME_HOST_DEFAULTS.maxInFlight),
    drain_timeout_ms: nonNegativeInt.default(RUNTIME_HOST_DEFAULTS.drainTimeoutMs),
    ingress: ingressSchema.prefault({}),
    idempotency: idempotencySchema.prefault({}),
    handler_source: handlerSourceSchema,
    secrets: secretsSchema.prefault({}),
    service_registration: serviceRegistrationSchema.optional(),
    observability: observabilitySchema.prefault({}),
    modules: modulesSchema.prefault({}),
  })
  .superRefine((w, ctx) => checkServiceRegistration(w.service_registration, w.ingress, ctx))
  .superRefine((w, ctx) => {
    const rebalanceTimeoutMs = w.event_bus.kind === 'kafka' ? (w.event_bus.config.rebalance_timeout_ms ?? KAFKA.rebalanceTimeoutMs) : undefined;
    w.handlers.forEach((binding, index) => {
      // drain_timeout_ms: 0 says "never wait on shutdown": every envelope in flight is delivered again by choice.
      if (!binding.enabled || w.drain_timeout_ms === 0) return;
      // Only the worst case the contract configures: a binding that sets neither timeout_ms
      // nor retry_policy runs on defaults, and lowering the drain alone stays valid.
      if (binding.wireConfig.timeout_ms === undefined && binding.wireConfig.retry_policy === undefined) return;
      for (const excess of budgetExcesses(binding.policies, { drainTimeoutMs: w.drain_timeout_ms, rebalanceTimeoutMs })) {
        addRuleIssue(
          ctx,
          `The ${binding.name} handler can take ${excess.worst.totalMs} ms per envelope, more than ${excess.limit} (${excess.limitMs} ms)`,
          { ruleId: 'CONTRACT_TIMING_BUDGET', hint: budgetHint(excess) },
          // At the key that sets the budget when it is written, else at the binding.
          binding.wireConfig.timeout_ms !== undefined ? ['handlers', index, 'config', 'timeout_ms'] : ['handlers', index],
        );
      }
    });
  })
  .transform((w): RuntimeSettings => {
    const bus = w.event_bus.config;
    const servers = bus.bootstrap_servers;
    return {
      name: w.name,
      version: w.version,
      description: w.description,
      eventBus: {
        kind: w.event_bus.kind,
        bootstrapServers: servers === undefined ? [] : typeof servers === 'string' ? [servers] : servers,
        // Kafka needs a group and client id; the runtime's own name identifies it best.
        consumerGroup: bus.consumer_group ?? w.name,
        clientId: bus.client_id ?? w.name,
        topics: bus.topics,
        maxQueueSize: bus.max_queue_size,
        kafka: {
          delivery: bus.delivery ?? KAFKA.delivery,
          maxInflightEnvelopes: bus.max_inflight_envelopes ?? KAFKA.maxInflightEnvelopes,
          // A cap below the default threshold pulls the threshold down with it.
          pauseConsumptionThreshold: bus.pause_consumption_threshold ?? Math.min(KAFKA.pauseConsumptionThreshold, bus.max_inflight_envelopes ?? KAFKA.maxInflightEnvelopes),
          commitIntervalMs: bus.commit_interval_ms ?? KAFKA.commitIntervalMs,
          sessionTimeoutMs: bus.session_timeout_ms ?? KAFKA.sessionTimeoutMs,
          heartbeatIntervalMs: bus.heartbeat_interval_ms ?? KAFKA.heartbeatIntervalMs,
          rebalanceTimeoutMs: bus.rebalance_timeout_ms ?? KAFKA.rebalanceTimeoutMs,
          stallTimeoutMs: bus.stall_timeout_ms ?? KAFKA.stallTimeoutMs,
          connectionTimeoutMs: bus.connection_timeout_ms ?? KAFKA.connectionTimeoutMs,
          requestTimeoutMs: bus.request_timeout_ms ?? KAFKA.requestTimeoutMs,
          autoOffsetReset: bus.auto_offset_reset ?? KAFKA.autoOffsetReset,
          outputKey: bus.output_key ?? KAFKA.outputKey,
        },
      },
      handlers: w.handlers,
      nodes: w.nodes,
      maxInFlight: w.max_in_flight,
      drainTimeoutMs: w.drain_timeout_ms,
      ingress: w.ingress,
      idempotency: w.idempotency,
      handlerSource: w.handler_source,
      secrets: w.secrets,
      serviceRegistration: w.service_registration === undefined ? undefined : { ...w.service_registration, serviceName: w.service_registration.serviceName ?? w.name },
      observability: w.observability,
      modules: w.modules,
    };
  });

/**
 * The whole runtime host contract, wire form in, {@link RuntimeHostContract} out, for the
 * handler types in `catalog`. It checks structure and single fields;
 * `parseRuntimeHostContract` adds the rules that span entries (duplicates, dev-only
 * handlers, empty lists, inline secrets) and the schema version gate.
 */
export function runtimeHostContractSchema(catalog: HandlerCatalog) {
  return z
    .strictObject({
      schema_version: versionTriple.default(RUNTIME_HOST_DEFAULTS.schemaVersion),
      runtime: runtimeSchema(handlerBindingSchema(catalog)),
    })
    .transform((w): RuntimeHostContract => ({ schemaVersion: w.schema_version, runtime: w.runtime }));
}

/** The YAML/JSON shape a runtime host contract is written in (handler config left open). */
export type RuntimeHostContractInput = z.input<ReturnType<typeof runtimeHostContractSchema>>;

/**
 * The JSON Schema (draft 2020-12) of what users write in a runtime host contract: core's
 * generic schema with one `handlers` item shape per catalog type, its `config` listing the
 * policy fields plus that handler's own keys. Rules that span entries (duplicates,
 * inline secrets) are not expressible here; `validate` is the full check.
 */
export function runtimeHostContractJsonSchema(catalog: HandlerCatalog): Record<string, unknown> {
  const entries = catalogEntries(catalog);
  const bindings = entries.map(handlerBindingDocSchema);
  const [first, ...others] = bindings;
  const handler = first === undefined ? z.never() : others.length === 0 ? first : z.discriminatedUnion('type', [first, ...others]);
  const schema = z.strictObject({
    schema_version: versionTriple.default(RUNTIME_HOST_DEFAULTS.schemaVersion),
    // Only converted to JSON Schema (input side), never parsed: the output type is moot.
    runtime: runtimeSchema(handler as unknown as z.ZodType<HandlerBinding, unknown>),
  });
  return {
    ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    title: 'ONEX runtime host contract',
  };
}
