import { randomUUID } from 'node:crypto';
import {
  ExecutionInterruptedError,
  IdempotencyKeyConflictError,
  InfraTimeoutError,
  NodeRuntime,
  createErrorResponse,
  envelopeDeadlineMs,
  expiredError,
  createInvalidEnvelopeResponse,
  parseEnvelope,
  resolveHandlerType,
  serializeEnvelope,
  isUuid,
  salvageIdentity,
  toOnexError,
  withCorrelationId,
  OnexError,
  RuntimeHostError,
  ShuttingDownError,
  RUNTIME_HOST_DEFAULTS,
  type EnvelopeHandler,
  type EnvelopeProviders,
  type HandlerType,
  type InterruptedPolicy,
  type NodeInstance,
  type OnexEnvelope,
  type RetryPolicy,
  type RouteOptions,
} from '@onex/core';
import type {
  BusSubscription,
  EventBusReadiness,
  HandlerHealth,
  InboundMessage,
  MessageSettlement,
  ProtocolEventBus,
  ProtocolHandler,
  ProtocolHandlerSource,
  ProtocolIdempotencyStore,
} from '@onex/spi';
import { InMemoryEventBus } from '../event-bus/in-memory-event-bus.js';
import { InMemoryIdempotencyStore } from '../idempotency/in-memory-idempotency-store.js';
import { envelopeDigest } from '../idempotency/envelope-digest.js';
import { silentLogger, withRuntimeId, type Logger } from '../logging/logger.js';
import { WarningLimiter } from '../logging/warning-limiter.js';
import { backoffDelayMs } from './retry-backoff.js';
import { systemScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { nodeProviders } from './node-providers.js';
import { createHostMetrics, type EnvelopeSeries, type HostMetrics } from '../observability/host-metrics.js';
import { HandlerBootstrapSource, wireHandlers, type HandlerRequest } from './handler-bootstrap-source.js';
import { guardHandler, type HandlerGuardMode } from './handler-scope.js';
import { ResponseWaiters } from './response-waiters.js';
import { ResilientHandler, refusedByPolicy } from '../resilience/resilient-handler.js';
import type { ResilienceObserver } from '../resilience/resilience-observer.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import { assertCompatibleVersions, loadVersionFacts, type ResolvedVersions, type VersionRequirement } from './version-check.js';
import { EnvelopeTracing } from '../tracing/envelope-tracing.js';
import { withHeaderTraceContext, type TraceHeaders } from '../tracing/trace-context.js';
import { HandlerLifecycle, type HandlerCircuitView, type HandlerStatus } from './handler-lifecycle.js';
import { EventLoopMonitor, type EventLoopMonitorOptions } from './event-loop-monitor.js';

/**
 * `created` → `starting` → `running` → `draining` → `stopped`; `failed` when start
 * fails (everything already opened is closed again).
 */
export type RuntimeHostState = 'created' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** The fully-defaulted settings a host runs with (see `settingsFromContract`). */
export interface RuntimeHostSettings {
  readonly name: string;
  readonly version: string;
  readonly inputTopic: string;
  readonly outputTopic: string;
  /** @default 16 */
  readonly maxInFlight: number;
  /** @default 30000 */
  readonly drainTimeoutMs: number;
  readonly handlers: readonly HandlerRequest[];
  /**
   * Retry policy per handler type (from each binding's `retry_policy`). A handler without
   * one is attempted once. Only failures marked retryable are retried.
   * @default {}
   */
  readonly retryPolicies?: Readonly<Partial<Record<string, RetryPolicy>>>;
  /**
   * How long a claim on an envelope holds, and what to do when an earlier execution was
   * cut off (see the contract's `idempotency`).
   * @default RUNTIME_HOST_DEFAULTS.idempotency (lease 30000 ms, reexecute)
   */
  readonly idempotency?: { readonly leaseMs: number; readonly onInterrupted: InterruptedPolicy };
  /**
   * How often each handler's health is checked; `/health/ready` reads the last result.
   * @default RUNTIME_HOST_DEFAULTS.ingress.readinessProbeIntervalMs (5000)
   */
  readonly readinessProbeIntervalMs?: number;
  /**
   * Prometheus metrics (`runtime.observability.metrics`). Ignored when `options.metrics` is given.
   * @default metrics on, default process metrics off (a hand-built host; a contract turns them on)
   */
  readonly metrics?: { readonly enabled: boolean; readonly defaultMetrics: boolean };
  /**
   * How long `stop()` keeps serving with `/health/ready` already failing before the drain
   * starts, so load balancers stop sending first (`runtime.ingress.ready_drain_delay_ms`).
   * @default 0 (a host built by hand has no load balancer to tell)
   */
  readonly readyDrainDelayMs?: number;
}

/** What the ingress knows about the caller of `submit`. */
export interface SubmitOptions {
  /**
   * The authenticated ingress client. Envelope ids are deduplicated per client, so one
   * client can neither replay nor learn another's answers by reusing its envelope ids.
   * @default anonymous (authentication off)
   */
  readonly client?: string;
  /** The request's W3C `traceparent`/`tracestate` headers; used when the envelope's metadata has no `traceparent`. */
  readonly traceHeaders?: TraceHeaders;
}

/** How `stop()` goes about it. */
export interface StopOptions {
  /**
   * Start the drain at once, without `readyDrainDelayMs`: for a host no load balancer was
   * told about (its start failed). The delay's timer does not keep the process alive.
   * @default false
   */
  readonly skipReadyDrainDelay?: boolean;
}

export interface SubmitResult {
  /**
   * `conflict`: the envelope id was already used by this client for a different request
   * (IDEMPOTENCY_KEY_CONFLICT, HTTP 409); it was not executed.
   */
  readonly status: 'ok' | 'invalid' | 'timeout' | 'unavailable' | 'conflict';
  readonly envelope: OnexEnvelope;
}

/**
 * One ingress request in flight. Its id is the host's own (a random UUID), and it is what
 * the answer is matched by; its controller cancels the handler call when the caller gives up.
 */
interface IngressTicket {
  readonly id: string;
  /**
   * Idempotency key: the envelope id scoped to the client. Callers without a token (an
   * ingress without `auth_tokens`) all share one client, hence one key space.
   */
  readonly key: string;
  /** The request's digest (`envelopeDigest`): a resend joining this ticket must match it. */
  readonly digest: string;
  readonly controller: AbortController;
  /** Set just before the handler is called: after an abort, whether the work may have run. */
  started: boolean;
}

/** Carries the ticket id with an ingress request on the in-memory bus (the host sets it; clients cannot). */
const INGRESS_TICKET_HEADER = 'x-onex-ingress-ticket';
const ANONYMOUS_CLIENT = '-';

export interface RuntimeHostProcessOptions {
  readonly settings: RuntimeHostSettings;
  readonly bus: ProtocolEventBus;
  readonly nodes?: readonly NodeInstance[];
  /** @default HandlerBootstrapSource without dev handlers */
  readonly handlerSource?: ProtocolHandlerSource;
  readonly logger?: Logger;
  /** @default Node's random UUIDs and the system clock */
  readonly providers?: EnvelopeProviders;
  /**
   * How far the runtime no-publish guard follows a handler: its synchronous call stack
   * (`sync`), or through awaits and timers too (`async`, slower on Node 20).
   * @default "sync"
   */
  readonly handlerGuard?: HandlerGuardMode;
  /** Version facts to check; the default reads the installed package manifests. */
  readonly versionFacts?: { versions: ResolvedVersions; requirements: VersionRequirement[] };
  /**
   * Remembers finished envelope ids so a redelivered envelope is answered, not executed
   * again. Closed by the host on stop.
   * @default a bounded InMemoryIdempotencyStore
   */
  readonly idempotencyStore?: ProtocolIdempotencyStore;
  /** Names this host instance in idempotency claims and dead-letter records. @default a random id */
  readonly hostId?: string;
  /** @default systemScheduler */
  readonly scheduler?: Scheduler;
  /**
   * Let an envelope that no hosted node allows go straight to its handler (tests,
   * embedding a bare handler). A host built from a contract never does: every envelope
   * passes a node's `io_operations` allow-list.
   * @default false
   */
  readonly directHandlerCalls?: boolean;
  /**
   * Runs last when the host stops, after handlers, bus and store are closed: releases what
   * the host's builder opened for it (the secret resolver built from the contract).
   */
  readonly onStopped?: () => Promise<void>;
  /**
   * Told about attempts, retries, rate-limit waits, breaker state changes and refusals
   * (for metrics and health; docs/resilience.md).
   * @default NOOP_RESILIENCE_OBSERVER
   */
  readonly resilienceObserver?: ResilienceObserver;
  /** The host's metrics, served on the ingress's `GET /metrics`. @default createHostMetrics(settings.metrics) */
  readonly metrics?: HostMetrics;
  /**
   * The circuit state of each handler, from the resilience wrapper's breakers: an open
   * breaker on a required handler makes the host not ready; `/health/handlers` shows it.
   * @default NO_CIRCUITS (no breakers)
   */
  readonly circuits?: HandlerCircuitView;
  /**
   * How the event loop is sampled for `/health/live`: `maxDelayMs` of delay makes the process not live.
   * @default { intervalMs: 500, maxDelayMs: 5000 }
   */
  readonly liveness?: Omit<EventLoopMonitorOptions, 'scheduler'>;
}

export interface RuntimeHostHealth {
  readonly state: RuntimeHostState;
  readonly live: boolean;
  readonly ready: boolean;
  readonly in_flight: number;
  readonly max_in_flight: number;
  readonly processed: number;
  readonly failed: number;
  /** Redelivered envelopes answered from the idempotency store instead of executed again. */
  readonly replayed: number;
  /** Why `ready` is false, when it is. */
  readonly not_ready_reason?: string;
  /** How late the event loop runs now, in ms; beyond the liveness limit `live` is false. */
  readonly event_loop_delay_ms: number;
}

/**
 * The process that drives a NodeRuntime from an event bus: consumes the input topic,
 * routes each envelope, publishes its response (or a structured error envelope) to
 * the output topic. Nothing is dropped silently and no raw exception reaches the bus.
 */
export class RuntimeHostProcess {
  readonly settings: RuntimeHostSettings;
  readonly bus: ProtocolEventBus;
  readonly #runtime: NodeRuntime;
  readonly #nodes: readonly NodeInstance[];
  readonly #source: ProtocolHandlerSource;
  readonly #logger: Logger;
  readonly #providers: EnvelopeProviders;
  readonly #limiter: ConcurrencyLimiter;
  readonly #waiters: ResponseWaiters;
  readonly #versionFacts: RuntimeHostProcessOptions['versionFacts'];
  readonly #handlerGuard: HandlerGuardMode;
  readonly #store: ProtocolIdempotencyStore;
  #onStopped: (() => Promise<void>) | undefined;
  readonly #hostId: string;
  readonly #scheduler: Scheduler;
  readonly #leaseMs: number;
  readonly #onInterrupted: InterruptedPolicy;
  /** Aborted when the drain starts: retry backoffs and claim waits end at once. */
  readonly #stopping = new AbortController();
  /** Every message is checked against the idempotency store (the bus may redeliver). */
  readonly #everyMessageIdempotent: boolean;
  readonly #busBoundsUnsettled: boolean;
  /** The in-memory bus, when ingress requests travel through it (their ticket rides in a header). */
  readonly #inMemoryBus: InMemoryEventBus | undefined;
  /** Ingress requests in flight, by ticket id; always checked against the store, even on a bus that never redelivers. */
  readonly #tickets = new Map<string, IngressTicket>();
  /** The same, by idempotency key: a client's resend while its first attempt runs joins it. */
  readonly #ticketsByKey = new Map<string, IngressTicket>();
  /** Last health check of each handler, by handler type; `health()` reads it. */
  readonly #handlerHealth = new Map<string, HandlerHealth>();
  #healthTimer: TimerHandle | undefined;
  #probing = false;
  readonly #warnings: WarningLimiter;
  readonly #metrics: HostMetrics;
  readonly #tracing: EnvelopeTracing;
  readonly #lifecycle: HandlerLifecycle;
  readonly #loop: EventLoopMonitor;
  /** Set when stop() begins: readiness fails from here, before intake stops. */
  #stopRequested = false;
  #state: RuntimeHostState = 'created';
  #handlers: ProtocolHandler[] = [];
  /** Each handler with policies, inside its policy stack, by handler type. */
  readonly #resilient = new Map<string, ResilientHandler>();
  readonly #observer: ResilienceObserver;
  /** Input first; the output subscription joins on the first `submit()`. */
  #subscriptions: BusSubscription[] = [];
  #outputSubscription: Promise<BusSubscription> | undefined;
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #processed = 0;
  #failed = 0;
  #replayed = 0;
  #versions: ResolvedVersions | undefined;

  constructor(options: RuntimeHostProcessOptions) {
    this.settings = options.settings;
    this.bus = options.bus;
    this.#nodes = options.nodes ?? [];
    // Not from the envelope id provider: a host id must not shift deterministic envelope ids.
    this.#hostId = options.hostId ?? `${options.settings.name}-${randomUUID().slice(0, 8)}`;
    this.#logger = withRuntimeId(options.logger ?? silentLogger, this.#hostId);
    this.#metrics = options.metrics ?? createHostMetrics(options.settings.metrics ?? { enabled: true, defaultMetrics: false });
    this.#providers = options.providers ?? nodeProviders;
    this.#source = options.handlerSource ?? new HandlerBootstrapSource({ logger: this.#logger });
    this.#runtime = new NodeRuntime({ providers: this.#providers, directHandlerCalls: options.directHandlerCalls ?? false });
    this.#limiter = new ConcurrencyLimiter(options.settings.maxInFlight);
    this.#versionFacts = options.versionFacts;
    this.#handlerGuard = options.handlerGuard ?? 'sync';
    this.#store = options.idempotencyStore ?? new InMemoryIdempotencyStore();
    this.#onStopped = options.onStopped;
    this.#scheduler = options.scheduler ?? systemScheduler;
    // Metrics count what the policy stack does unless the embedder watches it itself.
    this.#observer = options.resilienceObserver ?? this.#metrics.resilience;
    this.#leaseMs = options.settings.idempotency?.leaseMs ?? RUNTIME_HOST_DEFAULTS.idempotency.leaseMs;
    this.#onInterrupted = options.settings.idempotency?.onInterrupted ?? RUNTIME_HOST_DEFAULTS.idempotency.onInterrupted;
    this.#inMemoryBus = options.bus instanceof InMemoryEventBus ? options.bus : undefined;
    this.#waiters = new ResponseWaiters(this.#scheduler);
    this.#warnings = new WarningLimiter({ logger: this.#logger, scheduler: this.#scheduler });
    // An in-memory bus never redelivers; consulting the store for each of its messages
    // would cost more than the rest of the round trip (see docs/benchmarks.md).
    this.#everyMessageIdempotent = options.bus.redelivers !== false;
    this.#busBoundsUnsettled = options.bus.boundsUnsettled === true;
    this.#tracing = new EnvelopeTracing({ logger: this.#logger });
    this.#lifecycle = new HandlerLifecycle({ handlers: options.settings.handlers, scheduler: this.#scheduler, tracing: this.#tracing, // The policy stacks' breakers, unless the embedder brings its own view.
      circuits: options.circuits ?? { stateOf: (handlerType) => this.#resilient.get(handlerType)?.circuitState } });
    this.#loop = new EventLoopMonitor({ ...options.liveness, scheduler: this.#scheduler });
    const limiter = this.#limiter;
    this.#metrics.observe({ bus: this.bus, inputTopic: this.settings.inputTopic, inFlight: () => limiter.active, maxInFlight: () => limiter.limit, peakInFlight: () => limiter.peak });
  }

  /** The host's metrics (`GET /metrics` of its ingress; a no-op when metrics are off). */
  get metrics(): HostMetrics {
    return this.#metrics;
  }

  /** The host's logger: every line carries `runtime_id` (the host id). */
  get logger(): Logger {
    return this.#logger;
  }

  /** This instance's id in idempotency claims and dead-letter records. */
  get hostId(): string {
    return this.#hostId;
  }

  get state(): RuntimeHostState {
    return this.#state;
  }

  get runtime(): NodeRuntime {
    return this.#runtime;
  }

  /** Versions resolved at start. */
  get versions(): ResolvedVersions | undefined {
    return this.#versions;
  }

  /** Highest number of envelopes processed at once so far. */
  get peakInFlight(): number {
    return this.#limiter.peak;
  }

  /**
   * Each handler's circuit breaker state now, by handler type (for `/health/handlers` and
   * readiness). A handler without a breaker (turned off, or wired without policies) is absent.
   */
  circuitStates(): Record<string, CircuitState> {
    const states: Record<string, CircuitState> = {};
    for (const [type, handler] of this.#resilient) {
      const state = handler.circuitState;
      if (state !== undefined) states[type] = state;
    }
    return states;
  }

  /**
   * The handler inside its binding's policy stack. The guard stays innermost: it marks the
   * dispatch synchronously around the sealed handler's call, after the stack's waits.
   */
  #withPolicies(guarded: EnvelopeHandler): EnvelopeHandler {
    const policies = this.settings.handlers.find((h) => h.type === guarded.handlerType)?.policies;
    if (policies === undefined) return guarded;
    const resilient = new ResilientHandler(guarded, policies, { scheduler: this.#scheduler, logger: this.#logger, observer: this.#observer });
    this.#resilient.set(guarded.handlerType, resilient);
    return resilient;
  }

  /** Starts the host. Safe to call twice: the second call waits for the first. */
  start(): Promise<void> {
    if (this.#stopPromise && !this.#startPromise) {
      return Promise.reject(new RuntimeHostError('This runtime host was stopped before it started; create a new one', { hint: 'A host is single-use: created → started → stopped.' }));
    }
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    try {
      const facts = this.#versionFacts ?? loadVersionFacts();
      this.#versions = facts.versions;
      this.#logger.info({ versions: { '@onex/core': facts.versions.core, '@onex/spi': facts.versions.spi, '@onex/infra': facts.versions.infra } }, 'resolved ONEX package versions');
      assertCompatibleVersions(facts.requirements, facts.versions.infra);

      this.#loop.start();
      this.#handlers = await wireHandlers(this.#source, this.settings.handlers);
      this.#lifecycle.initialized();
      // Inside out: the no-publish guard, the metered call (latency of the real call), the policy stack, then the lifecycle (which sees the stack's refusals as the handler's last error).
      for (const handler of this.#handlers) this.#runtime.registerHandler(this.#lifecycle.observe(this.#withPolicies(this.#metrics.meterHandler(guardHandler(handler, this.#handlerGuard)))));
      this.#logger.info({ handler_source_mode: this.#source.sourceType.toUpperCase(), handler_count: this.#handlers.length, handler_types: this.#runtime.handlerTypes, compat_mode: false }, 'handlers wired');
      for (const node of this.#nodes) this.#runtime.registerNode(node);
      this.#metrics.bound({ nodes: this.#runtime.describeNodes(), handlers: this.#handlers.map((h) => h.describe()) });

      this.#subscriptions.push(await this.bus.subscribe(this.settings.inputTopic, (m) => this.#onInput(m)));
      await this.bus.startConsuming();
      this.#state = 'running';
      // Readiness must follow the handlers' health without every probe of /health/ready
      // calling every backend: the last check is cached and refreshed on an interval.
      this.#probeHandlers();
      this.#healthTimer = this.#scheduler.setInterval(() => this.#probeHandlers(), this.settings.readinessProbeIntervalMs ?? RUNTIME_HOST_DEFAULTS.ingress.readinessProbeIntervalMs);
    } catch (error) {
      this.#state = 'failed';
      await this.#release();
      throw toOnexError(error);
    }
  }

  /**
   * The path the HTTP ingress uses: resolves to the response envelope of `input`. On the
   * in-memory bus the envelope is published to the input topic (so it is processed like any
   * other message); on a network bus this host executes it itself, under the same slots.
   * Invalid input is answered at once with an ENVELOPE_VALIDATION_ERROR envelope; a missing
   * correlation id is assigned here.
   *
   * The answer is matched by a ticket the host owns, never by the client's envelope id, and
   * envelope ids are deduplicated per `options.client`. After `timeoutMs` the request is
   * cancelled: a handler call in progress gets its signal aborted, and a request still
   * waiting for a slot never starts; the `timeout` answer says which (`may_have_run`).
   */
  async submit(input: unknown, timeoutMs: number, options: SubmitOptions = {}): Promise<SubmitResult> {
    let envelope: OnexEnvelope;
    try {
      envelope = parseEnvelope(input, this.#providers);
    } catch (error) {
      return { status: 'invalid', envelope: this.#invalidResponse(input, error) };
    }
    envelope = this.#withCorrelation(withHeaderTraceContext(envelope, options.traceHeaders));
    if (this.#state !== 'running') {
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new ShuttingDownError(`Runtime host is ${this.#state}; not accepting envelopes`, { hint: 'Retry against a running instance.' })) };
    }
    // Unauthenticated callers have no client name: they all share ANONYMOUS_CLIENT's key space.
    const key = `ingress/${options.client ?? ANONYMOUS_CLIENT}/${envelope.envelopeId}`;
    const digest = envelopeDigest(envelope);
    // A resend while the first attempt is still running waits for that attempt's answer;
    // a different request under the same id is refused, as the store's claim would.
    const running = this.#ticketsByKey.get(key);
    if (running) {
      if (running.digest !== digest) return { status: 'conflict', envelope: this.#errorFor(envelope, this.#keyConflict(envelope)) };
      return this.#answer(envelope, running, this.#waiters.wait(running.id, timeoutMs), timeoutMs, false);
    }

    const ticket: IngressTicket = { id: randomUUID(), key, digest, controller: new AbortController(), started: false };
    this.#tickets.set(ticket.id, ticket);
    this.#ticketsByKey.set(key, ticket);
    const answer = this.#waiters.wait(ticket.id, timeoutMs);
    let result: SubmitResult | undefined;
    try {
      if (this.#inMemoryBus) {
        // The host listens to its own output only once someone submits through it (the
        // ingress): a host fed by other publishers leaves its output topic to their consumers.
        this.#outputSubscription ??= this.bus.subscribe(this.settings.outputTopic, (m) => this.#onOutput(m)).then((sub) => {
          this.#subscriptions.push(sub);
          return sub;
        });
        await this.#outputSubscription;
        // Not awaited before the answer: a full input queue must not hold the caller past its timeout.
        this.#inMemoryBus.publish({ topic: this.settings.inputTopic, value: envelope, key: envelope.correlationId, headers: { [INGRESS_TICKET_HEADER]: ticket.id } }).catch((error: unknown) => {
          this.#logger.error({ correlation_id: envelope.correlationId, err: toOnexError(error).toLogFields() }, 'could not publish an ingress request');
          this.#waiters.cancel(ticket.id);
        });
      } else {
        void this.#runDirect(envelope, ticket);
      }
      result = await this.#answer(envelope, ticket, answer, timeoutMs, true);
      return result;
    } finally {
      // Without an answer the work is cancelled, and that happens before the ticket leaves the
      // map: a message whose ticket is unknown is treated as cancelled, never run unguarded.
      if (result === undefined) ticket.controller.abort();
      this.#tickets.delete(ticket.id);
      this.#ticketsByKey.delete(key);
    }
  }

  /** The caller's answer: the response, or why there is none (stopped; timed out and cancelled). */
  async #answer(envelope: OnexEnvelope, ticket: IngressTicket, answer: Promise<OnexEnvelope | undefined>, timeoutMs: number, owner: boolean): Promise<SubmitResult> {
    const response = await answer;
    // Refused by the idempotency claim: a caller's error with its own status (409), not a handler's answer.
    if (response?.success === false && response.error?.code === 'IDEMPOTENCY_KEY_CONFLICT') return { status: 'conflict', envelope: response };
    if (response) return { status: 'ok', envelope: response };
    // Only the request's own caller cancels it; a resend that joined it just stops waiting.
    if (owner) ticket.controller.abort(new InfraTimeoutError(`No response within ${timeoutMs} ms`, { transportType: 'runtime' }));
    if (this.#state !== 'running') {
      // The drain gave up on it: like a 504, whether it had reached its handler is worth saying.
      const details = { may_have_run: ticket.started };
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new ShuttingDownError('Runtime host stopped before this envelope was processed', { details, hint: 'Send it again to a running instance.' })) };
    }
    return { status: 'timeout', envelope: this.#errorFor(envelope, timeoutError(timeoutMs, ticket.started)) };
  }

  /**
   * The ingress path when the bus is a network transport: the request would land on any
   * host of the consumer group, so this host executes it itself, under the same slots
   * and the same idempotency store (a resent envelope gets the first result).
   */
  async #runDirect(envelope: OnexEnvelope, ticket: IngressTicket): Promise<void> {
    try {
      // A caller that gives up while waiting leaves the queue: its work never starts.
      await this.#limiter.acquire(ticket.controller.signal);
    } catch {
      return;
    }
    const series = this.#metrics.envelope(envelope);
    series.received();
    try {
      const result = await this.#tracing.envelope(envelope, { kind: 'server', system: this.bus.kind, destination: this.settings.inputTopic }, () => this.#execute(envelope, true, ticket));
      if (result) {
        this.#count(result.response, series);
        this.#waiters.deliver(ticket.id, result.response);
      }
    } catch (error) {
      this.#logger.error({ correlation_id: envelope.correlationId, err: toOnexError(error).toLogFields() }, 'ingress execution failed');
    } finally {
      this.#limiter.release();
    }
  }

  /** Health of each handler, checked now (and cached for readiness); a check that throws counts as unhealthy. */
  async handlerHealth(): Promise<HandlerHealth[]> {
    const handlers = this.#handlers;
    const results = await Promise.all(
      handlers.map(async (h): Promise<HandlerHealth> => {
        try {
          return await h.healthCheck();
        } catch (error) {
          return { healthy: false, handler_type: h.handlerType as HandlerType, error: toOnexError(error).message };
        }
      }),
    );
    handlers.forEach((h, i) => {
      const result = results[i];
      if (result === undefined) return;
      this.#handlerHealth.set(h.handlerType, result);
      this.#lifecycle.recordHealth(h.handlerType, result.healthy, typeof result.error === 'string' ? result.error : undefined);
    });
    return results;
  }

  /**
   * Every handler's health, checked now, with what the host tracks about it (lifecycle
   * state, required, circuit, in-flight calls, last error) over the handler's own details.
   */
  async handlerStatuses(): Promise<Array<HandlerHealth & HandlerStatus>> {
    const checks = await this.handlerHealth();
    const byType = new Map(checks.map((c) => [c.handler_type as string, c]));
    return this.#lifecycle.statuses().map((s) => ({ ...byType.get(s.handler_type), ...s }) as HandlerHealth & HandlerStatus);
  }

  /** One background health check of every handler; skipped while the previous one still runs. */
  #probeHandlers(): void {
    if (this.#probing || this.#state !== 'running') return;
    this.#probing = true;
    this.handlerHealth()
      .catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'handler health probe failed'))
      .finally(() => {
        this.#probing = false;
      });
  }

  health(): RuntimeHostHealth {
    const bus: EventBusReadiness =
      this.#state !== 'running' ? { ready: false, reason: `the host is ${this.#state}` }
      : this.#stopRequested ? { ready: false, reason: 'the host is stopping (readiness fails before the drain starts)' }
      : this.bus.readiness();
    const loop = this.#loop.check();
    const base = {
      state: this.#state,
      live: this.#state !== 'failed' && this.#state !== 'stopped' && loop.responsive,
      ready: bus.ready,
      in_flight: this.#limiter.active,
      max_in_flight: this.#limiter.limit,
      processed: this.#processed,
      failed: this.#failed,
      replayed: this.#replayed,
      event_loop_delay_ms: loop.delayMs,
    };
    if (!bus.ready) return { ...base, not_ready_reason: bus.reason ?? 'the event bus is not ready' };
    const handlerReason = this.#lifecycle.notReadyReason();
    return handlerReason === undefined ? base : { ...base, ready: false, not_ready_reason: handlerReason };
  }

  /**
   * Stops intake, lets in-flight envelopes finish (up to `drainTimeoutMs`), then shuts
   * every handler down exactly once and closes the bus. Safe to call twice.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopPromise ??= this.#stop(options.skipReadyDrainDelay === true);
    return this.#stopPromise;
  }

  async #stop(skipReadyDrainDelay: boolean): Promise<void> {
    if (this.#startPromise) await this.#startPromise.catch(() => undefined);
    if (this.#state === 'stopped' || this.#state === 'failed' || this.#state === 'created') {
      this.#state = this.#state === 'failed' ? 'failed' : 'stopped';
      // Never started (or failed to): what the builder opened for it is still open.
      await this.#runOnStopped();
      return;
    }
    this.#stopRequested = true;
    const readyDrainDelayMs = skipReadyDrainDelay ? 0 : this.settings.readyDrainDelayMs ?? 0;
    if (readyDrainDelayMs > 0) {
      // Still serving, with /health/ready already failing: load balancers stop sending first.
      this.#logger.info({ ready_drain_delay_ms: readyDrainDelayMs }, 'readiness off; draining after the ready-drain delay');
      await this.#scheduler.sleep(readyDrainDelayMs);
    }
    this.#state = 'draining';
    this.#healthTimer?.cancel();
    this.#stopping.abort();
    const inFlight = this.#limiter.active;
    const drained = await this.#drain();
    const abandoned = this.#limiter.active;
    this.#metrics.drained(inFlight - abandoned, abandoned);
    this.#logger.info(
      { in_flight_at_drain: inFlight, drained: inFlight - abandoned, abandoned },
      drained ? 'drain complete' : 'drain timed out; envelopes still in flight are abandoned (not committed: they are delivered again)',
    );
    // Whoever still waits gets an answer rather than a hang.
    for (const id of this.#waiters.pendingIds()) this.#waiters.cancel(id);
    await this.#release();
    this.#warnings.flush();
    this.#state = 'stopped';
  }

  async #drain(): Promise<boolean> {
    const deadline = Date.now() + this.settings.drainTimeoutMs;
    const input = this.#subscriptions[0];
    // A bus that can tell its queue depth is emptied first: what it already accepted gets processed.
    const depth = (this.bus as { depth?: (topic: string) => number }).depth?.bind(this.bus);
    while (depth && depth(this.settings.inputTopic) > 0 && Date.now() < deadline) await sleep(5);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    // Unsubscribing waits for the delivery in progress, which may itself wait for a slot,
    // so it is part of the drain and under the same deadline.
    const idle = (async () => {
      await input?.unsubscribe();
      await this.#limiter.whenIdle();
      return true;
    })();
    try {
      const drained = await Promise.race([idle, timedOut]);
      // A delivery still waiting for a slot would otherwise hold the bus, and stop(), forever.
      if (!drained) this.#limiter.cancelWaiters(new ShuttingDownError('Drain timed out before this envelope got a slot'));
      return drained;
    } finally {
      // A pending drain timer would keep the process alive for the whole drain timeout.
      clearTimeout(timer);
    }
  }

  async #release(): Promise<void> {
    this.#healthTimer?.cancel();
    this.#loop.stop();
    await Promise.allSettled(this.#subscriptions.map((s) => s.unsubscribe()));
    this.#subscriptions = [];
    const results = await Promise.allSettled(this.#handlers.map((h) => h.shutdown()));
    for (const r of results) if (r.status === 'rejected') this.#logger.error({ err: toOnexError(r.reason).toLogFields() }, 'handler shutdown failed');
    this.#handlers = [];
    this.#lifecycle.shutdown();
    await this.bus.shutdown().catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'event bus shutdown failed'));
    await this.#store.close().catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'idempotency store close failed'));
    await this.#runOnStopped();
  }

  /** `onStopped`, at most once whatever path the host stops by. */
  async #runOnStopped(): Promise<void> {
    const onStopped = this.#onStopped;
    this.#onStopped = undefined;
    await onStopped?.().catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'closing host resources failed'));
  }

  #onInput(message: InboundMessage): Promise<void> {
    if (this.#limiter.tryAcquire()) {
      this.#dispatch(message);
      return RESOLVED;
    }
    // Waiting here is the backpressure: the bus delivers the next message only when a slot is free.
    return this.#limiter.acquire().then(
      () => this.#dispatch(message),
      () => {
        // stop() gave up draining while this message waited for a slot: it was never executed.
        this.#logger.warn({ correlation_id: message.key, topic: message.topic }, 'drain timed out; envelope not processed');
      },
    );
  }

  /** Processes one message in its slot; never rejects, always releases. */
  #dispatch(message: InboundMessage): void {
    this.#process(message).then(this.#releaseSlot, this.#releaseSlot);
  }

  readonly #releaseSlot = (): void => this.#limiter.release();

  /**
   * Answers reach ingress callers by their ticket (see `#process`), not from here: the output
   * topic is consumed only so the host's own answers are settled, not reported lost at shutdown.
   */
  #onOutput(message: InboundMessage): Promise<void> {
    return message.settle(NOTHING_TO_PUBLISH);
  }

  /** Handles one input message and settles it; never rejects. Unsettled means redelivered. */
  async #process(message: InboundMessage): Promise<void> {
    const ticketId = this.#inMemoryBus ? message.headers?.[INGRESS_TICKET_HEADER] : undefined;
    const response = await this.#handle(message, ticketId);
    if (response === undefined) return;
    this.#count(response.envelope, response.series);
    const outputs = [{ topic: this.settings.outputTopic, envelope: response.envelope }];
    const error = response.envelope.error;
    // Every failure is answered on the output topic and dead-lettered with the original bytes.
    const settlement: MessageSettlement =
      response.envelope.success === false
        ? {
            kind: 'dead_letter',
            outputs,
            reason: { code: error?.code ?? 'INTERNAL_ERROR', message: error?.message ?? 'failed', attempts: response.attempts, ...(response.envelope.correlationId === undefined ? {} : { correlationId: response.envelope.correlationId }) },
          }
        : { kind: 'processed', outputs };
    const settled = message.settle(settlement).catch((err: unknown) => {
      this.#logger.error(
        { correlation_id: response.envelope.correlationId, envelope_id: response.envelope.causationId, err: toOnexError(err).toLogFields() },
        'could not make the response durable; the message stays unfinished and will be delivered again',
      );
    });
    // The slot is for processing. A bus that bounds unsettled messages itself (Kafka) frees
    // it now rather than after the broker's acknowledgement; otherwise waiting here is how
    // the output's backpressure reaches the input.
    if (!this.#busBoundsUnsettled) await settled;
    // The ingress caller gets the very answer that was published, matched by its ticket.
    if (ticketId !== undefined) this.#waiters.deliver(ticketId, response.envelope);
  }

  /** The answer to one message, or undefined when the host abandons it (stopping). */
  async #handle(message: InboundMessage, ticketId: string | undefined): Promise<{ envelope: OnexEnvelope; attempts: number; series: EnvelopeSeries } | undefined> {
    let envelope: OnexEnvelope;
    try {
      const value = message.value;
      envelope = typeof value === 'string' || value instanceof Uint8Array ? parseEnvelope(decode(value), this.#providers) : value;
    } catch (error) {
      this.#metrics.invalid.received();
      return { envelope: this.#invalidResponse(message.value, error, message.headers), attempts: 1, series: this.#metrics.invalid };
    }
    const series = this.#metrics.envelope(envelope);
    series.received();
    if (message.headers !== undefined) envelope = this.#reconcileHeaders(message, envelope);
    envelope = this.#withCorrelation(envelope);
    const origin = { kind: 'consumer', system: this.bus.kind, destination: message.topic, headers: message.headers, position: message.position } as const;
    if (ticketId !== undefined) {
      // The ticket is gone once its caller stopped waiting (and cancelled it first): nothing to run.
      const ticket = this.#tickets.get(ticketId) ?? cancelledTicket(ticketId);
      const result = await this.#tracing.envelope(envelope, origin, () => this.#execute(envelope, true, ticket));
      return result === undefined ? undefined : { envelope: result.response, attempts: result.attempts, series };
    }
    const result = await this.#tracing.envelope(envelope, origin, () => this.#execute(envelope, this.#everyMessageIdempotent));
    return result === undefined ? undefined : { envelope: result.response, attempts: result.attempts, series };
  }

  #count(response: OnexEnvelope, series: EnvelopeSeries): void {
    this.#processed += 1;
    series.answered(response);
    if (response.success === false) {
      this.#failed += 1;
      // Rate-limited per node, handler, operation and error code: a caller can make envelopes
      // fail at will. The key fields are the bounded metric labels, so varying them is no way around it.
      this.#warnings.warn(
        { node: series.node, handler_type: series.handlerType, operation: series.operation, error_code: response.error?.code },
        'envelope failed',
        { correlation_id: response.correlationId, envelope_id: response.causationId, error_message: response.error?.message, retryable: response.error?.retryable },
      );
    } else if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ correlation_id: response.correlationId, envelope_id: response.causationId, node: series.node, handler_type: series.handlerType, operation: series.operation }, 'envelope processed');
    }
  }

  /**
   * Transport headers repeat the body's ids for routing and tracing. The body is the
   * envelope, so it wins; a disagreement is logged with both values. A header may fill
   * in a correlation id the body lacks (the producer did correlate, just not in JSON).
   */
  #reconcileHeaders(message: InboundMessage, envelope: OnexEnvelope): OnexEnvelope {
    const headers = message.headers ?? {};
    const headerCorrelation = headers.correlation_id;
    const headerEnvelopeId = headers.envelope_id;
    if (headerCorrelation !== undefined && envelope.correlationId !== undefined && headerCorrelation.toLowerCase() !== envelope.correlationId) {
      this.#logger.warn({ correlation_id: envelope.correlationId, header_correlation_id: headerCorrelation, topic: message.topic, ...message.position }, 'correlation_id header disagrees with the envelope body; the body wins');
    }
    if (headerEnvelopeId !== undefined && headerEnvelopeId.toLowerCase() !== envelope.envelopeId) {
      this.#logger.warn({ envelope_id: envelope.envelopeId, header_envelope_id: headerEnvelopeId, correlation_id: envelope.correlationId, topic: message.topic, ...message.position }, 'envelope_id header disagrees with the envelope body; the body wins');
    }
    const fromHeader = envelope.correlationId === undefined ? headerCorrelationId(headers) : undefined;
    return fromHeader === undefined ? envelope : withCorrelationId(envelope, fromHeader);
  }

  /**
   * Executes an envelope at most once per idempotency store, retrying retryable failures
   * under the handler's retry policy. Undefined when abandoned because the host is stopping
   * (its claim is released, so the redelivery executes at once).
   */
  async #execute(envelope: OnexEnvelope, idempotent = true, ticket?: IngressTicket): Promise<{ response: OnexEnvelope; attempts: number } | undefined> {
    const handlerType = resolveHandlerType(envelope);
    const policy = this.settings.retryPolicies?.[handlerType] ?? this.settings.handlers.find((h) => h.type === handlerType)?.policies?.retryPolicy;
    const maxAttempts = 1 + (policy?.maxRetries ?? 0);
    const deadline = envelopeDeadlineMs(envelope);
    // Ingress requests are deduplicated per client; bus messages by their envelope id.
    const id = ticket?.key ?? envelope.envelopeId;
    // Computed once per envelope, outside the retry loop; the ingress computed it already.
    const digest = idempotent ? (ticket?.digest ?? envelopeDigest(envelope)) : '';
    const signal = ticket?.controller.signal;
    for (let attempt = 1; ; attempt += 1) {
      let response: OnexEnvelope;
      try {
        if (ticket !== undefined && attempt === 1 && ticket.controller.signal.aborted) {
          // Cancelled while queued: not even a claim to take.
          return { response: this.#errorFor(envelope, timeoutError(undefined, false)), attempts: 0 };
        }
        if (idempotent) {
          const claim = await this.#claim(envelope, id, digest);
          if (claim === 'abandon') return undefined;
          if (claim !== 'claimed') return claim;
        }
        if (ticket !== undefined) {
          // Checked right before the call, with nothing awaited in between: once the caller
          // has given up (504), the work never starts.
          if (ticket.controller.signal.aborted) {
            if (idempotent) await this.#releaseClaim(id);
            return { response: this.#errorFor(envelope, timeoutError(undefined, false)), attempts: attempt - 1 };
          }
          ticket.started = true;
        }
        if (deadline !== undefined && this.#scheduler.now() >= deadline) {
          // Expired before it ran: answered (and recorded, so a redelivery gets the same answer), never executed.
          this.#observer.expired(handlerType, envelope.operation);
          response = this.#errorFor(envelope, expiredError(envelope, deadline, this.#scheduler.now(), false));
          if (idempotent) await this.#complete(id, response);
          return { response, attempts: attempt - 1 };
        }
        this.#observer.attempt(handlerType, envelope.operation, attempt);
        response = await this.#runtime.routeEnvelope(envelope, signal === undefined ? NO_ROUTE_OPTIONS : { signal });
      } catch (error) {
        // The store itself failed (e.g. its database is down): as retryable as the failure.
        response = this.#errorFor(envelope, toOnexError(error));
      }
      // Refusals by the policy stack (circuit open, bulkhead full, no token in time) are not
      // retried here: retrying would only hold a host slot; the caller decides when to resend.
      const retry =
        response.success === false && response.error?.retryable === true && attempt < maxAttempts && policy !== undefined && signal?.aborted !== true && !refusedByPolicy(response.error);
      const delayMs = retry ? backoffDelayMs(policy, attempt, this.#scheduler.random()) : 0;
      // A retry that could only start after the deadline would be refused as EXPIRED: the last failure is the better answer.
      if (!retry || (deadline !== undefined && this.#scheduler.now() + delayMs >= deadline)) {
        if (idempotent) await this.#complete(id, response);
        return { response, attempts: attempt };
      }
      this.#observer.retryScheduled(handlerType, envelope.operation, attempt, delayMs);
      const series = this.#metrics.envelope(envelope);
      series.retried();
      this.#logger.warn(
        {
          correlation_id: envelope.correlationId,
          envelope_id: envelope.envelopeId,
          node: series.node,
          handler_type: handlerType,
          operation: envelope.operation,
          attempt,
          max_attempts: maxAttempts,
          delay_ms: delayMs,
          error_code: response.error?.code,
        },
        'retryable failure; retrying',
      );
      await this.#scheduler.sleep(delayMs, this.#stopping.signal);
      if (this.#stopping.signal.aborted) {
        if (idempotent) await this.#releaseClaim(id);
        return undefined;
      }
    }
  }

  /**
   * Claims the envelope in the idempotency store: `claimed` to execute it now, a finished
   * answer to republish, or `abandon` when the host stops while another owner holds it.
   */
  async #claim(envelope: OnexEnvelope, key: string, digest: string): Promise<'claimed' | 'abandon' | { response: OnexEnvelope; attempts: number }> {
    for (let wait = 20; ; wait = Math.min(wait * 2, 1_000)) {
      const pending = this.#store.claim(key, this.#hostId, this.#leaseMs, digest);
      const claim = pending instanceof Promise ? await pending : pending;
      if (claim.status === 'conflict') {
        // Neither completed nor released: the id belongs to the first request, whose record stays as it was.
        this.#logger.warn({ correlation_id: envelope.correlationId, envelope_id: envelope.envelopeId, operation: envelope.operation }, 'envelope_id reused for a different request; refused (IDEMPOTENCY_KEY_CONFLICT)');
        return { response: this.#errorFor(envelope, this.#keyConflict(envelope)), attempts: 1 };
      }
      if (claim.status === 'completed') {
        this.#replayed += 1;
        this.#logger.info({ correlation_id: envelope.correlationId, envelope_id: envelope.envelopeId }, 'redelivered envelope already finished; republishing its stored response');
        return { response: parseEnvelope(claim.response, this.#providers), attempts: 0 };
      }
      if (claim.status === 'claimed') {
        if (claim.interruptedOwner === undefined) return 'claimed';
        const fields = { correlation_id: envelope.correlationId, envelope_id: envelope.envelopeId, interrupted_owner: claim.interruptedOwner, policy: this.#onInterrupted };
        if (this.#onInterrupted === 'reexecute') {
          this.#logger.warn(fields, 'an earlier execution of this envelope was cut off; executing it again (side effects may repeat)');
          return 'claimed';
        }
        this.#logger.warn(fields, 'an earlier execution of this envelope was cut off; not executing it again (dead-lettered)');
        const response = this.#errorFor(
          envelope,
          new ExecutionInterruptedError(`An earlier execution of envelope ${envelope.envelopeId} by ${claim.interruptedOwner} was cut off; its side effects may or may not have happened`, {
            hint: 'Check the target system for the effect, then resend the envelope with a new envelope_id if it did not happen.',
          }),
        );
        return { response, attempts: 1 };
      }
      // Another host is on it (a rebalance handed the partition over mid-execution): its
      // answer is coming, or its lease runs out and the claim becomes ours.
      if (this.#stopping.signal.aborted) return 'abandon';
      await this.#scheduler.sleep(Math.min(wait, Math.max(1, claim.leaseExpiresAtMs - this.#scheduler.now())), this.#stopping.signal);
    }
  }

  #keyConflict(envelope: OnexEnvelope): IdempotencyKeyConflictError {
    return new IdempotencyKeyConflictError(
      `envelope_id ${envelope.envelopeId} was already used for a different request (operation, target_node, handler_type or payload differ); this one was not executed`,
      { operation: envelope.operation, hint: 'Give every distinct request its own envelope_id; resend an envelope unchanged only to retry it.' },
    );
  }

  async #complete(id: string, response: OnexEnvelope): Promise<void> {
    try {
      const done = this.#store.complete(id, this.#hostId, serializeEnvelope(response));
      if (done instanceof Promise) await done;
    } catch (error) {
      // The answer still goes out; only a redelivery of it would execute again.
      this.#logger.error({ correlation_id: response.correlationId, envelope_id: id, err: toOnexError(error).toLogFields() }, 'could not record the finished envelope in the idempotency store');
    }
  }

  async #releaseClaim(id: string): Promise<void> {
    try {
      const done = this.#store.release(id, this.#hostId);
      if (done instanceof Promise) await done;
    } catch (error) {
      this.#logger.warn({ envelope_id: id, err: toOnexError(error).toLogFields() }, 'could not release an idempotency claim; its lease will run out');
    }
  }

  /** Only the host assigns a correlation id, and only when the envelope has none. */
  #withCorrelation(envelope: OnexEnvelope): OnexEnvelope {
    return envelope.correlationId === undefined ? withCorrelationId(envelope, this.#providers.ids.nextId()) : envelope;
  }

  /**
   * The error envelope for a request refused before it became an envelope (the ingress's
   * 401/403/404/413/415/508 and the like): the ids salvaged from `raw` when it has any, and
   * a fresh correlation id otherwise, assigned here since only the host assigns them.
   */
  refusal(error: OnexError, raw?: unknown): OnexEnvelope {
    return this.#invalidResponse(raw, error);
  }

  /**
   * The ENVELOPE_VALIDATION_ERROR answer to `raw`. Its correlation id is, in order: the
   * body's (when valid), the transport's `correlation_id` header (when a UUID, as in
   * `#reconcileHeaders`), else a fresh one.
   */
  #invalidResponse(raw: unknown, error: unknown, headers?: Readonly<Record<string, string>>): OnexEnvelope {
    const parsedRaw = typeof raw === 'string' ? safeJson(raw) : raw instanceof Uint8Array ? safeJson(decode(raw)) : raw;
    const salvaged = salvageIdentity(parsedRaw);
    return createInvalidEnvelopeResponse(
      { ...salvaged, correlationId: salvaged.correlationId ?? headerCorrelationId(headers) ?? this.#providers.ids.nextId() },
      error instanceof OnexError ? error : toOnexError(error),
      this.#providers,
    );
  }

  #errorFor(envelope: OnexEnvelope, error: OnexError): OnexEnvelope {
    return createErrorResponse(envelope, error, this.#providers);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
/** Routing without a cancellation signal (bus messages): one shared object, no allocation per envelope. */
const NO_ROUTE_OPTIONS: RouteOptions = Object.freeze({});

/** Stands in for a ticket whose caller already gave up: already aborted, so nothing runs. */
function cancelledTicket(id: string): IngressTicket {
  const controller = new AbortController();
  controller.abort();
  return { id, key: `ingress/cancelled/${id}`, digest: '', controller, started: false };
}

/**
 * The 504 answer. `may_have_run` tells the caller whether to check for side effects: false
 * when the request was still queued (it never reached a handler and never will).
 */
function timeoutError(timeoutMs: number | undefined, mayHaveRun: boolean): InfraTimeoutError {
  const waited = timeoutMs === undefined ? 'The ingress stopped waiting for this envelope' : `No response within ${timeoutMs} ms`;
  return new InfraTimeoutError(
    mayHaveRun
      ? `${waited}; its handler call had started and was cancelled, so it may have run in part or in full`
      : `${waited}; it was still queued and was not executed`,
    {
      transportType: 'runtime',
      details: { may_have_run: mayHaveRun },
      hint: mayHaveRun
        ? 'Check the target system for the effect. Resending the same envelope_id returns the recorded outcome instead of executing it again.'
        : 'Send it again (it never ran). If this repeats, raise ingress.request_timeout_ms or max_in_flight, or look at the handler it targets.',
    },
  );
}
const NOTHING_TO_PUBLISH: MessageSettlement = { kind: 'processed', outputs: [] };
/** The `correlation_id` transport header, lower-cased, when it is a UUID (the envelope's rule); else undefined. */
function headerCorrelationId(headers: Readonly<Record<string, string>> | undefined): string | undefined {
  const value = headers?.correlation_id;
  return isUuid(value) ? value.toLowerCase() : undefined;
}

function decode(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates a host; `start()` it to begin consuming. */
export async function createRuntimeHostProcess(options: RuntimeHostProcessOptions): Promise<RuntimeHostProcess> {
  return new RuntimeHostProcess(options);
}

