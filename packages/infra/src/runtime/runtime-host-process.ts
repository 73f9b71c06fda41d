import { randomUUID } from 'node:crypto';
import {
  ExecutionInterruptedError,
  NodeRuntime,
  createErrorResponse,
  createInvalidEnvelopeResponse,
  parseEnvelope,
  resolveHandlerType,
  serializeEnvelope,
  salvageIdentity,
  toOnexError,
  withCorrelationId,
  OnexError,
  RuntimeHostError,
  ShuttingDownError,
  InfraTimeoutError,
  RUNTIME_HOST_DEFAULTS,
  type EnvelopeProviders,
  type HandlerType,
  type InterruptedPolicy,
  type NodeInstance,
  type OnexEnvelope,
  type RetryPolicy,
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
import { silentLogger, type Logger } from '../logging/logger.js';
import { backoffDelayMs } from './retry-backoff.js';
import { systemScheduler, type Scheduler } from './scheduler.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { nodeProviders } from './node-providers.js';
import { HandlerBootstrapSource, wireHandlers, type HandlerRequest } from './handler-bootstrap-source.js';
import { guardHandler, type HandlerGuardMode } from './handler-scope.js';
import { ResponseWaiters } from './response-waiters.js';
import { assertCompatibleVersions, loadVersionFacts, type ResolvedVersions, type VersionRequirement } from './version-check.js';

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
}

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
  readonly #waiters = new ResponseWaiters();
  readonly #versionFacts: RuntimeHostProcessOptions['versionFacts'];
  readonly #handlerGuard: HandlerGuardMode;
  readonly #store: ProtocolIdempotencyStore;
  readonly #hostId: string;
  readonly #scheduler: Scheduler;
  readonly #leaseMs: number;
  readonly #onInterrupted: InterruptedPolicy;
  /** Aborted when the drain starts: retry backoffs and claim waits end at once. */
  readonly #stopping = new AbortController();
  /** Messages go through the bus to the host (in process); other buses are served directly. */
  readonly #ingressThroughBus: boolean;
  /** Every message is checked against the idempotency store (the bus may redeliver). */
  readonly #everyMessageIdempotent: boolean;
  readonly #busBoundsUnsettled: boolean;
  /** Envelope ids the ingress published and waits for: checked against the store even on a bus that never redelivers. */
  readonly #ingressIds = new Set<string>();
  #state: RuntimeHostState = 'created';
  #handlers: ProtocolHandler[] = [];
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
    this.#logger = options.logger ?? silentLogger;
    this.#providers = options.providers ?? nodeProviders;
    this.#source = options.handlerSource ?? new HandlerBootstrapSource({ logger: this.#logger });
    this.#runtime = new NodeRuntime({ providers: this.#providers, directHandlerCalls: options.directHandlerCalls ?? false });
    this.#limiter = new ConcurrencyLimiter(options.settings.maxInFlight);
    this.#versionFacts = options.versionFacts;
    this.#handlerGuard = options.handlerGuard ?? 'sync';
    this.#store = options.idempotencyStore ?? new InMemoryIdempotencyStore();
    // Not from the envelope id provider: a host id must not shift deterministic envelope ids.
    this.#hostId = options.hostId ?? `${options.settings.name}-${randomUUID().slice(0, 8)}`;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#leaseMs = options.settings.idempotency?.leaseMs ?? RUNTIME_HOST_DEFAULTS.idempotency.leaseMs;
    this.#onInterrupted = options.settings.idempotency?.onInterrupted ?? RUNTIME_HOST_DEFAULTS.idempotency.onInterrupted;
    this.#ingressThroughBus = options.bus instanceof InMemoryEventBus;
    // An in-memory bus never redelivers; consulting the store for each of its messages
    // would cost more than the rest of the round trip (see docs/benchmarks.md).
    this.#everyMessageIdempotent = options.bus.redelivers !== false;
    this.#busBoundsUnsettled = options.bus.boundsUnsettled === true;
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

      this.#handlers = await wireHandlers(this.#source, this.settings.handlers);
      for (const handler of this.#handlers) this.#runtime.registerHandler(guardHandler(handler, this.#handlerGuard));
      this.#logger.info({ handler_source_mode: this.#source.sourceType.toUpperCase(), handler_count: this.#handlers.length, handler_types: this.#runtime.handlerTypes, compat_mode: false }, 'handlers wired');
      for (const node of this.#nodes) this.#runtime.registerNode(node);

      this.#subscriptions.push(await this.bus.subscribe(this.settings.inputTopic, (m) => this.#onInput(m)));
      await this.bus.startConsuming();
      this.#state = 'running';
    } catch (error) {
      this.#state = 'failed';
      await this.#release();
      throw toOnexError(error);
    }
  }

  /**
   * Publishes `input` to the input topic and resolves to its response envelope — the
   * path the HTTP ingress uses. Invalid input is answered at once with an
   * ENVELOPE_VALIDATION_ERROR envelope; a missing correlation id is assigned here.
   */
  async submit(input: unknown, timeoutMs: number): Promise<{ status: 'ok' | 'invalid' | 'timeout' | 'unavailable'; envelope: OnexEnvelope }> {
    let envelope: OnexEnvelope;
    try {
      envelope = parseEnvelope(input, this.#providers);
    } catch (error) {
      return { status: 'invalid', envelope: this.#invalidResponse(input, error) };
    }
    envelope = this.#withCorrelation(envelope);
    if (this.#state !== 'running') {
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new ShuttingDownError(`Runtime host is ${this.#state}; not accepting envelopes`, { hint: 'Retry against a running instance.' })) };
    }
    if (!this.#ingressThroughBus) return this.#submitDirect(envelope, timeoutMs);
    // The host listens to its own output only once someone submits through it (the
    // ingress): a host fed by other publishers leaves its output topic to their consumers.
    this.#outputSubscription ??= this.bus.subscribe(this.settings.outputTopic, (m) => this.#onOutput(m)).then((sub) => {
      this.#subscriptions.push(sub);
      return sub;
    });
    await this.#outputSubscription;
    const id = envelope.envelopeId;
    // A resend while the first attempt is still running waits for that attempt's answer.
    const running = this.#ingressIds.has(id);
    const response = this.#waiters.wait(id, timeoutMs);
    let answer: OnexEnvelope | undefined;
    if (running) answer = await response;
    else {
      this.#ingressIds.add(id);
      try {
        await this.bus.publishEnvelope(envelope, this.settings.inputTopic);
        answer = await response;
      } finally {
        this.#ingressIds.delete(id);
      }
    }
    if (answer) return { status: 'ok', envelope: answer };
    if (this.#state !== 'running') {
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new ShuttingDownError('Runtime host stopped before this envelope was processed', { hint: 'Send it again to a running instance; it was not executed.' })) };
    }
    return {
      status: 'timeout',
      envelope: this.#errorFor(envelope, new InfraTimeoutError(`No response within ${timeoutMs} ms`, { transportType: 'runtime', hint: 'Raise ingress.request_timeout_ms or look at the handler the envelope targets.' })),
    };
  }

  /**
   * The ingress path when the bus is a network transport: the request would land on any
   * host of the consumer group, so this host executes it itself, under the same slots
   * and the same idempotency store (a resent envelope gets the first result).
   */
  async #submitDirect(envelope: OnexEnvelope, timeoutMs: number): Promise<{ status: 'ok' | 'timeout' | 'unavailable'; envelope: OnexEnvelope }> {
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = this.#scheduler.setTimeout(() => resolve(undefined), timeoutMs);
    });
    const work = (async () => {
      await this.#limiter.acquire();
      try {
        return await this.#execute(envelope);
      } finally {
        this.#limiter.release();
      }
    })();
    work.catch(() => undefined);
    const result = await Promise.race([work, timedOut]);
    timer?.cancel();
    if (result) {
      this.#count(result.response);
      return { status: 'ok', envelope: result.response };
    }
    if (this.#state !== 'running') {
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new ShuttingDownError('Runtime host stopped before this envelope was processed', { hint: 'Send it again to a running instance.' })) };
    }
    return {
      status: 'timeout',
      envelope: this.#errorFor(envelope, new InfraTimeoutError(`No response within ${timeoutMs} ms`, { transportType: 'runtime', hint: 'Resend the same envelope (same envelope_id): it is not executed twice.' })),
    };
  }

  /** Health of each handler; a handler whose check throws is reported unhealthy. */
  async handlerHealth(): Promise<HandlerHealth[]> {
    return Promise.all(
      this.#handlers.map(async (h): Promise<HandlerHealth> => {
        try {
          return await h.healthCheck();
        } catch (error) {
          return { healthy: false, handler_type: h.handlerType as HandlerType, error: toOnexError(error).message };
        }
      }),
    );
  }

  health(): RuntimeHostHealth {
    const bus: EventBusReadiness = this.#state === 'running' ? this.bus.readiness() : { ready: false, reason: `the host is ${this.#state}` };
    const base = {
      state: this.#state,
      live: this.#state !== 'failed' && this.#state !== 'stopped',
      ready: bus.ready,
      in_flight: this.#limiter.active,
      max_in_flight: this.#limiter.limit,
      processed: this.#processed,
      failed: this.#failed,
      replayed: this.#replayed,
    };
    return bus.ready ? base : { ...base, not_ready_reason: bus.reason ?? 'the event bus is not ready' };
  }

  /**
   * Stops intake, lets in-flight envelopes finish (up to `drainTimeoutMs`), then shuts
   * every handler down exactly once and closes the bus. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    if (this.#startPromise) await this.#startPromise.catch(() => undefined);
    if (this.#state === 'stopped' || this.#state === 'failed' || this.#state === 'created') {
      this.#state = this.#state === 'failed' ? 'failed' : 'stopped';
      return;
    }
    this.#state = 'draining';
    this.#stopping.abort();
    const inFlight = this.#limiter.active;
    const drained = await this.#drain();
    const abandoned = this.#limiter.active;
    this.#logger.info(
      { in_flight_at_drain: inFlight, drained: inFlight - abandoned, abandoned },
      drained ? 'drain complete' : 'drain timed out; envelopes still in flight are abandoned (not committed: they are delivered again)',
    );
    // Whoever still waits gets an answer rather than a hang.
    for (const id of this.#waiters.pendingIds()) this.#waiters.cancel(id);
    await this.#release();
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
    await Promise.allSettled(this.#subscriptions.map((s) => s.unsubscribe()));
    this.#subscriptions = [];
    const results = await Promise.allSettled(this.#handlers.map((h) => h.shutdown()));
    for (const r of results) if (r.status === 'rejected') this.#logger.error({ err: toOnexError(r.reason).toLogFields() }, 'handler shutdown failed');
    this.#handlers = [];
    await this.bus.shutdown().catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'event bus shutdown failed'));
    await this.#store.close().catch((error: unknown) => this.#logger.error({ err: toOnexError(error).toLogFields() }, 'idempotency store close failed'));
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

  #onOutput(message: InboundMessage): Promise<void> {
    if (typeof message.value === 'object' && !(message.value instanceof Uint8Array)) this.#waiters.deliver(message.value);
    // Handing the answer to its waiter finishes it; unsettled it would be reported as lost at shutdown.
    return message.settle(NOTHING_TO_PUBLISH);
  }

  /** Handles one input message and settles it; never rejects. Unsettled means redelivered. */
  async #process(message: InboundMessage): Promise<void> {
    const response = await this.#handle(message);
    if (response === undefined) return;
    this.#count(response.envelope);
    const outputs = [{ topic: this.settings.outputTopic, envelope: response.envelope }];
    const error = response.envelope.error;
    // Every failure is answered on the output topic and dead-lettered with the original bytes.
    const settlement: MessageSettlement =
      response.envelope.success === false
        ? { kind: 'dead_letter', outputs, reason: { code: error?.code ?? 'INTERNAL_ERROR', message: error?.message ?? 'failed', attempts: response.attempts } }
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
  }

  /** The answer to one message, or undefined when the host abandons it (stopping). */
  async #handle(message: InboundMessage): Promise<{ envelope: OnexEnvelope; attempts: number } | undefined> {
    let envelope: OnexEnvelope;
    try {
      const value = message.value;
      envelope = typeof value === 'string' || value instanceof Uint8Array ? parseEnvelope(decode(value), this.#providers) : value;
    } catch (error) {
      return { envelope: this.#invalidResponse(message.value, error), attempts: 1 };
    }
    if (message.headers !== undefined) envelope = this.#reconcileHeaders(message, envelope);
    envelope = this.#withCorrelation(envelope);
    const viaIngress = this.#ingressIds.has(envelope.envelopeId);
    const result = await this.#execute(envelope, this.#everyMessageIdempotent || viaIngress);
    return result === undefined ? undefined : { envelope: result.response, attempts: result.attempts };
  }

  #count(response: OnexEnvelope): void {
    this.#processed += 1;
    if (response.success === false) {
      this.#failed += 1;
      this.#logger.warn({ correlation_id: response.correlationId, envelope_id: response.causationId, handler_type: response.handlerType, operation: response.operation, error_code: response.error?.code, error_message: response.error?.message }, 'envelope failed');
    } else if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ correlation_id: response.correlationId, envelope_id: response.causationId, handler_type: response.handlerType, operation: response.operation }, 'envelope processed');
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
    if (envelope.correlationId === undefined && headerCorrelation !== undefined && UUID_RE.test(headerCorrelation)) {
      return withCorrelationId(envelope, headerCorrelation.toLowerCase());
    }
    return envelope;
  }

  /**
   * Executes an envelope at most once per idempotency store, retrying retryable failures
   * under the handler's retry policy. Undefined when abandoned because the host is stopping
   * (its claim is released, so the redelivery executes at once).
   */
  async #execute(envelope: OnexEnvelope, idempotent = true): Promise<{ response: OnexEnvelope; attempts: number } | undefined> {
    const policy = this.settings.retryPolicies?.[resolveHandlerType(envelope)];
    const maxAttempts = 1 + (policy?.maxRetries ?? 0);
    const id = envelope.envelopeId;
    for (let attempt = 1; ; attempt += 1) {
      let response: OnexEnvelope;
      try {
        if (idempotent) {
          const claim = await this.#claim(envelope);
          if (claim === 'abandon') return undefined;
          if (claim !== 'claimed') return claim;
        }
        response = await this.#runtime.routeEnvelope(envelope);
      } catch (error) {
        // The store itself failed (e.g. its database is down): as retryable as the failure.
        response = this.#errorFor(envelope, toOnexError(error));
      }
      const retry = response.success === false && response.error?.retryable === true && attempt < maxAttempts && policy !== undefined;
      if (!retry) {
        if (idempotent) await this.#complete(id, response);
        return { response, attempts: attempt };
      }
      const delayMs = backoffDelayMs(policy, attempt, this.#scheduler.random());
      this.#logger.warn(
        { correlation_id: envelope.correlationId, envelope_id: id, operation: envelope.operation, attempt, max_attempts: maxAttempts, delay_ms: delayMs, error_code: response.error?.code },
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
  async #claim(envelope: OnexEnvelope): Promise<'claimed' | 'abandon' | { response: OnexEnvelope; attempts: number }> {
    for (let wait = 20; ; wait = Math.min(wait * 2, 1_000)) {
      const pending = this.#store.claim(envelope.envelopeId, this.#hostId, this.#leaseMs);
      const claim = pending instanceof Promise ? await pending : pending;
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

  #invalidResponse(raw: unknown, error: unknown): OnexEnvelope {
    const parsedRaw = typeof raw === 'string' ? safeJson(raw) : raw instanceof Uint8Array ? safeJson(decode(raw)) : raw;
    const salvaged = salvageIdentity(parsedRaw);
    return createInvalidEnvelopeResponse(
      { ...salvaged, correlationId: salvaged.correlationId ?? this.#providers.ids.nextId() },
      error instanceof OnexError ? error : toOnexError(error),
      this.#providers,
    );
  }

  #errorFor(envelope: OnexEnvelope, error: OnexError): OnexEnvelope {
    return createErrorResponse(envelope, error, this.#providers);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
const NOTHING_TO_PUBLISH: MessageSettlement = { kind: 'processed', outputs: [] };
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

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

