import {
  NodeRuntime,
  createErrorResponse,
  createInvalidEnvelopeResponse,
  parseEnvelope,
  salvageIdentity,
  toOnexError,
  withCorrelationId,
  OnexError,
  RuntimeHostError,
  type EnvelopeProviders,
  type HandlerType,
  type NodeInstance,
  type OnexEnvelope,
} from '@onex/core';
import type { BusMessage, BusSubscription, HandlerHealth, ProtocolEventBus, ProtocolHandler, ProtocolHandlerSource } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
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
}

export interface RuntimeHostHealth {
  readonly state: RuntimeHostState;
  readonly live: boolean;
  readonly ready: boolean;
  readonly in_flight: number;
  readonly max_in_flight: number;
  readonly processed: number;
  readonly failed: number;
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
  #state: RuntimeHostState = 'created';
  #handlers: ProtocolHandler[] = [];
  /** Input first; the output subscription joins on the first `submit()`. */
  #subscriptions: BusSubscription[] = [];
  #outputSubscription: Promise<BusSubscription> | undefined;
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #processed = 0;
  #failed = 0;
  #versions: ResolvedVersions | undefined;

  constructor(options: RuntimeHostProcessOptions) {
    this.settings = options.settings;
    this.bus = options.bus;
    this.#nodes = options.nodes ?? [];
    this.#logger = options.logger ?? silentLogger;
    this.#providers = options.providers ?? nodeProviders;
    this.#source = options.handlerSource ?? new HandlerBootstrapSource({ logger: this.#logger });
    this.#runtime = new NodeRuntime({ providers: this.#providers });
    this.#limiter = new ConcurrencyLimiter(options.settings.maxInFlight);
    this.#versionFacts = options.versionFacts;
    this.#handlerGuard = options.handlerGuard ?? 'sync';
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
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new RuntimeHostError(`Runtime host is ${this.#state}; not accepting envelopes`, { code: 'SHUTTING_DOWN', hint: 'Retry against a running instance.' })) };
    }
    // The host listens to its own output only once someone submits through it (the
    // ingress): a host fed by other publishers leaves its output topic to their consumers.
    this.#outputSubscription ??= this.bus.subscribe(this.settings.outputTopic, (m) => this.#onOutput(m)).then((sub) => {
      this.#subscriptions.push(sub);
      return sub;
    });
    await this.#outputSubscription;
    const response = this.#waiters.wait(envelope.envelopeId, timeoutMs);
    await this.bus.publishEnvelope(envelope, this.settings.inputTopic);
    const answer = await response;
    if (answer) return { status: 'ok', envelope: answer };
    if (this.#state !== 'running') {
      return { status: 'unavailable', envelope: this.#errorFor(envelope, new RuntimeHostError('Runtime host stopped before this envelope was processed', { code: 'SHUTTING_DOWN', hint: 'Send it again to a running instance; it was not executed.' })) };
    }
    return {
      status: 'timeout',
      envelope: this.#errorFor(envelope, new RuntimeHostError(`No response within ${timeoutMs} ms`, { code: 'INFRA_TIMEOUT', retryable: true, hint: 'Raise ingress.request_timeout_ms or look at the handler the envelope targets.' })),
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
    return {
      state: this.#state,
      live: this.#state !== 'failed' && this.#state !== 'stopped',
      ready: this.#state === 'running',
      in_flight: this.#limiter.active,
      max_in_flight: this.#limiter.limit,
      processed: this.#processed,
      failed: this.#failed,
    };
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
    const drained = await this.#drain();
    this.#logger.info({ drained, in_flight: this.#limiter.active }, drained ? 'drain complete' : 'drain timed out; stopping with envelopes in flight');
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
      if (!drained) this.#limiter.cancelWaiters(new RuntimeHostError('Drain timed out before this envelope got a slot', { code: 'SHUTTING_DOWN' }));
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
  }

  #onInput(message: BusMessage): Promise<void> {
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
  #dispatch(message: BusMessage): void {
    this.#process(message).then(this.#releaseSlot, this.#releaseSlot);
  }

  readonly #releaseSlot = (): void => this.#limiter.release();

  #onOutput(message: BusMessage): Promise<void> {
    if (typeof message.value === 'object' && !(message.value instanceof Uint8Array)) this.#waiters.deliver(message.value);
    return RESOLVED;
  }

  async #process(message: BusMessage): Promise<void> {
    let response: OnexEnvelope;
    try {
      const value = message.value;
      let envelope = typeof value === 'string' || value instanceof Uint8Array ? parseEnvelope(decode(value), this.#providers) : value;
      envelope = this.#withCorrelation(envelope);
      response = await this.#runtime.routeEnvelope(envelope);
    } catch (error) {
      response = this.#invalidResponse(message.value, error);
    }
    this.#processed += 1;
    if (response.success === false) {
      this.#failed += 1;
      this.#logger.warn({ correlation_id: response.correlationId, envelope_id: response.causationId, handler_type: response.handlerType, operation: response.operation, error_code: response.error?.code, error_message: response.error?.message }, 'envelope failed');
    } else if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ correlation_id: response.correlationId, envelope_id: response.causationId, handler_type: response.handlerType, operation: response.operation }, 'envelope processed');
    }
    try {
      await this.bus.publishEnvelope(response, this.settings.outputTopic);
    } catch (error) {
      this.#logger.error({ correlation_id: response.correlationId, envelope_id: response.causationId, err: toOnexError(error).toLogFields() }, 'could not publish response');
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

