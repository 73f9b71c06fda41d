/**
 * The host's Prometheus metrics (prom-client), served as text on the ingress's `GET /metrics`.
 *
 * Each host owns its own `Registry`, never prom-client's global one: two hosts in one
 * process (tests, embedding) would otherwise collide on metric names. Hot-path counters go
 * through label children cached in nested maps, so counting an envelope allocates nothing
 * after its label set was first seen; gauges that mirror state (in-flight, bus lag) are read
 * when Prometheus scrapes, not updated per message. Labels are bounded (see label-bounds.ts).
 * With metrics off, `createHostMetrics` returns a no-op whose methods do nothing.
 */
import { isOnexErrorCode, resolveHandlerType, type EnvelopeHandler, type HandlerInvocationContext, type JsonValue, type OnexEnvelope } from '@onex/core';
import type { ProtocolEventBus } from '@onex/spi';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Counter as CounterT } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram.js';
import { LabelBounds, NO_NODE_LABEL, OTHER_LABEL, type LabelBoundsInput } from './label-bounds.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import { NOOP_RESILIENCE_OBSERVER, type ResilienceObserver } from '../resilience/resilience-observer.js';

/** Every breaker state, each one series of `onex_circuit_state`. */
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];

/** Handler call latency buckets, in seconds: 1 ms (an in-process call) to 30 s (the default `timeout_ms`). */
export const HANDLER_LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Rate-limit wait buckets, in seconds. */
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HostMetricsOptions {
  /** Off: every method is a no-op and `/metrics` answers 404. @default true */
  readonly enabled?: boolean;
  /** Register prom-client's default process metrics (CPU, memory, event loop lag, GC) on the host's registry. @default true */
  readonly defaultMetrics?: boolean;
  /** Monotonic milliseconds for handler latency. @default performance.now */
  readonly clock?: () => number;
}

/** The counters of one envelope's label set, looked up once per envelope. */
export interface EnvelopeSeries {
  readonly node: string;
  readonly handlerType: string;
  readonly operation: string;
  /** The envelope entered the host. */
  received(): void;
  /** Its response (success or error envelope) left the host. */
  answered(response: OnexEnvelope): void;
  /** A retryable failure of it is retried by the host's retry loop. */
  retried(): void;
}

/** What the host reads, on scrape, for the gauges that mirror its state. */
export interface HostMetricsSource {
  readonly bus: ProtocolEventBus;
  readonly inputTopic: string;
  inFlight(): number;
  maxInFlight(): number;
  peakInFlight(): number;
}

export interface HostMetrics {
  readonly enabled: boolean;
  /** The host's own prom-client registry (to merge with an application's); undefined when metrics are off. */
  readonly registry: Registry | undefined;
  /** Where the resilience wrapper reports; a no-op when metrics are off. */
  readonly resilience: ResilienceObserver;
  /** Sets which nodes, handler types and operations may become labels (at start, once handlers are wired). */
  bound(input: LabelBoundsInput): void;
  /** The series of an envelope: cached by its bounded labels. */
  envelope(envelope: Pick<OnexEnvelope, 'targetNode' | 'handlerType' | 'operation'>): EnvelopeSeries;
  /** The series of a message that never became an envelope (unparseable, invalid). */
  readonly invalid: EnvelopeSeries;
  /** Wraps a handler so each call's latency is observed; returns it unchanged when metrics are off. */
  meterHandler(handler: EnvelopeHandler): EnvelopeHandler;
  /** One drain finished: envelopes that finished in time, and those abandoned (delivered again later). */
  drained(drained: number, abandoned: number): void;
  /** Gauges read `source` on each scrape. */
  observe(source: HostMetricsSource): void;
  /** The ingress refused a request over its per-client rate limit; `client` is a configured client name or `anonymous`, never an address. */
  ingressRateLimited(client: string): void;
  /** The exposition text and its content type; undefined when metrics are off. */
  scrape(): Promise<{ readonly contentType: string; readonly body: string } | undefined>;
}

const NOOP_SERIES: EnvelopeSeries = Object.freeze({
  node: NO_NODE_LABEL,
  handlerType: OTHER_LABEL,
  operation: OTHER_LABEL,
  received: () => undefined,
  answered: () => undefined,
  retried: () => undefined,
});

const NOOP_METRICS: HostMetrics = Object.freeze({
  enabled: false,
  registry: undefined,
  resilience: NOOP_RESILIENCE_OBSERVER,
  bound: () => undefined,
  envelope: () => NOOP_SERIES,
  invalid: NOOP_SERIES,
  meterHandler: (handler: EnvelopeHandler) => handler,
  drained: () => undefined,
  observe: () => undefined,
  ingressRateLimited: () => undefined,
  scrape: () => Promise.resolve(undefined),
});

/** The host's metrics: prom-client on a registry of its own, or a no-op when `enabled` is false. */
export function createHostMetrics(options: HostMetricsOptions = {}): HostMetrics {
  return options.enabled === false ? NOOP_METRICS : new PromHostMetrics(options);
}

type Child = ReturnType<CounterT<string>['labels']>;

/** A three-level cache without building a key string per lookup. */
class Cache3<V> {
  readonly #map = new Map<string, Map<string, Map<string, V>>>();
  get(a: string, b: string, c: string, make: () => V): V {
    let m1 = this.#map.get(a);
    if (m1 === undefined) this.#map.set(a, (m1 = new Map()));
    let m2 = m1.get(b);
    if (m2 === undefined) m1.set(b, (m2 = new Map()));
    let v = m2.get(c);
    if (v === undefined) m2.set(c, (v = make()));
    return v;
  }
}

/** One series' envelope counts since the last scrape, and the counter children they go to. */
interface PendingCounts {
  received: number;
  success: number;
  failure: number;
  readonly inChild: Child;
  readonly successChild: Child;
  readonly failureChild: Child;
}

class PromHostMetrics implements HostMetrics {
  readonly enabled = true;
  readonly registry = new Registry();
  readonly resilience: ResilienceObserver;
  readonly invalid: EnvelopeSeries;
  readonly #clock: () => number;
  #bounds = new LabelBounds();
  #source: HostMetricsSource | undefined;
  readonly #series = new Cache3<EnvelopeSeries>();
  /** Per-series counts not yet added to the prom-client counters (see {@link flushCounts}). */
  readonly #pending: PendingCounts[] = [];
  readonly #errors = new Cache3<Child>();

  readonly #in: Counter<'node' | 'handler_type' | 'operation'>;
  readonly #out: Counter<'node' | 'handler_type' | 'operation' | 'outcome'>;
  readonly #errorCount: Counter<'handler_type' | 'code' | 'retryable'>;
  readonly #retries: Counter<'handler_type' | 'operation'>;
  readonly #latency: BucketHistogram<'handler_type' | 'operation' | 'outcome'>;
  readonly #drain: Counter<'result'>;
  readonly #ingressRateLimited: Counter<'client'>;

  constructor(options: HostMetricsOptions) {
    const registers = [this.registry];
    this.#clock = options.clock ?? (() => performance.now());
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // The per-envelope counts are plain numbers, added to these counters when they are read
    // (a scrape): prom-client hashes the label set on every inc(), which cost more than the
    // rest of the metrics on a no-op round trip (docs/benchmarks.md).
    const flush = (): void => this.#flushCounts();
    this.#in = new Counter({ name: 'onex_envelopes_in_total', help: 'Envelopes taken in by the host, by node, handler type and operation.', labelNames: ['node', 'handler_type', 'operation'], registers, collect: flush });
    this.#out = new Counter({
      name: 'onex_envelopes_out_total',
      help: 'Response envelopes the host sent, by node, handler type, operation and outcome (success or error).',
      labelNames: ['node', 'handler_type', 'operation', 'outcome'],
      registers,
      collect: flush,
    });
    this.#errorCount = new Counter({ name: 'onex_envelope_errors_total', help: 'Error responses, by handler type, error code and whether the error is retryable.', labelNames: ['handler_type', 'code', 'retryable'], registers });
    this.#retries = new Counter({ name: 'onex_retries_total', help: 'Retries of retryable failures by the host retry loop (retry_policy), by handler type and operation.', labelNames: ['handler_type', 'operation'], registers });
    this.#latency = new BucketHistogram({
      name: 'onex_handler_call_duration_seconds',
      help: 'Duration of one handler call (one attempt), by handler type, operation and outcome.',
      labelNames: ['handler_type', 'operation', 'outcome'],
      buckets: [...HANDLER_LATENCY_BUCKETS],
      registers,
    });
    this.#drain = new Counter({ name: 'onex_drain_envelopes_total', help: 'Envelopes in flight when a drain started: drained (finished in time) or abandoned (delivered again later).', labelNames: ['result'], registers });
    this.#drain.labels('drained').inc(0);
    this.#drain.labels('abandoned').inc(0);
    this.#ingressRateLimited = new Counter({
      name: 'onex_ingress_rate_limited_total',
      help: 'Requests the ingress answered with 429 (per-client rate limit), by client name from ingress.auth_tokens ("anonymous" without tokens).',
      labelNames: ['client'],
      registers,
    });
    this.#stateGauges(registers);
    this.resilience = this.#resilienceObserver(registers);
    this.invalid = this.#makeSeries(NO_NODE_LABEL, OTHER_LABEL, OTHER_LABEL);
  }

  bound(input: LabelBoundsInput): void {
    this.#bounds = new LabelBounds(input);
  }

  envelope(envelope: Pick<OnexEnvelope, 'targetNode' | 'handlerType' | 'operation'>): EnvelopeSeries {
    const b = this.#bounds;
    const node = b.node(envelope.targetNode, envelope.operation);
    const handlerType = b.handlerType(resolveHandlerType(envelope));
    const operation = b.operation(envelope.operation);
    return this.#series.get(node, handlerType, operation, () => this.#makeSeries(node, handlerType, operation));
  }

  #makeSeries(node: string, handlerType: string, operation: string): EnvelopeSeries {
    const pending: PendingCounts = {
      received: 0,
      success: 0,
      failure: 0,
      inChild: this.#in.labels(node, handlerType, operation),
      successChild: this.#out.labels(node, handlerType, operation, 'success'),
      failureChild: this.#out.labels(node, handlerType, operation, 'error'),
    };
    this.#pending.push(pending);
    const retries = this.#retries.labels(handlerType, operation);
    const errors = this.#errors;
    const errorCount = this.#errorCount;
    return {
      node,
      handlerType,
      operation,
      received: () => {
        pending.received += 1;
      },
      answered: (response) => {
        if (response.success !== false) {
          pending.success += 1;
          return;
        }
        pending.failure += 1;
        const rawCode = response.error?.code;
        // Codes come from the one error map; anything else (a peer's envelope) is not a new series.
        const code = isOnexErrorCode(rawCode) ? rawCode : OTHER_LABEL;
        const retryable = response.error?.retryable === true ? 'true' : 'false';
        errors.get(handlerType, code, retryable, () => errorCount.labels(handlerType, code, retryable)).inc();
      },
      retried: () => retries.inc(),
    };
  }

  /** Adds the counts made since the last read to the envelope counters (run by their `collect`). */
  #flushCounts(): void {
    for (const p of this.#pending) {
      if (p.received > 0) p.inChild.inc(p.received);
      if (p.success > 0) p.successChild.inc(p.success);
      if (p.failure > 0) p.failureChild.inc(p.failure);
      p.received = 0;
      p.success = 0;
      p.failure = 0;
    }
  }

  meterHandler(handler: EnvelopeHandler): EnvelopeHandler {
    // The host registered this handler: its type is a bounded label by construction.
    const handlerType = handler.handlerType;
    const clock = this.#clock;
    const latency = this.#latency;
    const bounds = (): LabelBounds => this.#bounds;
    // This handler's series by bounded operation: [success, error].
    const calls = new Map<string, readonly [HistogramSeries, HistogramSeries]>();
    const seriesOf = (operation: string): readonly [HistogramSeries, HistogramSeries] => {
      let pair = calls.get(operation);
      if (pair === undefined) calls.set(operation, (pair = [latency.labels(handlerType, operation, 'success'), latency.labels(handlerType, operation, 'error')]));
      return pair;
    };
    return {
      handlerType: handler.handlerType,
      // Not an async function: `then` on the handler's own promise is one promise fewer per call.
      execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
        const started = clock();
        const record = (index: 0 | 1): void => seriesOf(bounds().operation(context.operation))[index].observe((clock() - started) / 1000);
        let call: Promise<JsonValue>;
        try {
          call = handler.execute(envelope, context);
        } catch (error) {
          // A handler that throws instead of rejecting still counts, as an error.
          record(1);
          return Promise.reject(error);
        }
        return call.then(
          (result) => {
            record(0);
            return result;
          },
          (error: unknown) => {
            record(1);
            throw error;
          },
        );
      },
    };
  }

  drained(drained: number, abandoned: number): void {
    this.#drain.labels('drained').inc(drained);
    this.#drain.labels('abandoned').inc(abandoned);
  }

  observe(source: HostMetricsSource): void {
    this.#source = source;
  }

  ingressRateLimited(client: string): void {
    this.#ingressRateLimited.labels(client).inc();
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Gauges read on scrape from the host (in-flight) and its bus (lag, pending, paused). */
  #stateGauges(registers: Registry[]): void {
    const source = (): HostMetricsSource | undefined => this.#source;
    new Gauge({
      name: 'onex_in_flight_envelopes',
      help: 'Envelopes being processed now.',
      registers,
      collect() {
        this.set(source()?.inFlight() ?? 0);
      },
    });
    new Gauge({
      name: 'onex_in_flight_max_envelopes',
      help: 'The host-wide limit on envelopes processed at once (max_in_flight).',
      registers,
      collect() {
        this.set(source()?.maxInFlight() ?? 0);
      },
    });
    new Gauge({
      name: 'onex_in_flight_peak_envelopes',
      help: 'The most envelopes processed at once since the host started.',
      registers,
      collect() {
        this.set(source()?.peakInFlight() ?? 0);
      },
    });
    // One health read serves the three bus gauges of a scrape: a scrape asks each in turn.
    let pendingRead: Promise<BusGauges> | undefined;
    const busGauges = (): Promise<BusGauges> => {
      const s = source();
      if (s === undefined) return Promise.resolve(NO_BUS);
      pendingRead ??= s.bus
        .healthCheck()
        .then((h) => busGaugesOf(h, s.inputTopic), () => NO_BUS)
        .finally(() => {
          queueMicrotask(() => (pendingRead = undefined));
        });
      return pendingRead;
    };
    const kind = (): string => source()?.bus.kind ?? 'none';
    new Gauge({
      name: 'onex_bus_lag_messages',
      help: 'Messages on the input topic not yet processed (Kafka: consumer lag; in-memory: queue depth).',
      labelNames: ['bus'],
      registers,
      async collect() {
        this.reset();
        this.labels(kind()).set((await busGauges()).lag);
      },
    });
    new Gauge({
      name: 'onex_bus_pending_messages',
      help: 'Messages delivered to the host and not yet finished (Kafka: unfinished; in-memory: unsettled).',
      labelNames: ['bus'],
      registers,
      async collect() {
        this.reset();
        this.labels(kind()).set((await busGauges()).pending);
      },
    });
    new Gauge({
      name: 'onex_bus_paused',
      help: '1 while the bus has paused consumption for backpressure (Kafka), else 0.',
      labelNames: ['bus'],
      registers,
      async collect() {
        this.reset();
        this.labels(kind()).set((await busGauges()).paused ? 1 : 0);
      },
    });
  }

  #resilienceObserver(registers: Registry[]): ResilienceObserver {
    const state = new Gauge({ name: 'onex_circuit_state', help: 'Circuit breaker state per handler: 1 for the current state, 0 for the others.', labelNames: ['handler_type', 'state'], registers });
    const transitions = new Counter({ name: 'onex_circuit_transitions_total', help: 'Circuit breaker state changes per handler, by the state entered.', labelNames: ['handler_type', 'to'], registers });
    const circuitRejected = new Counter({ name: 'onex_circuit_rejections_total', help: 'Calls failed fast because the handler circuit was open.', labelNames: ['handler_type'], registers });
    const waits = new Counter({ name: 'onex_rate_limit_waits_total', help: 'Calls that waited for a rate-limit token, by handler type and outcome (admitted, or rejected at the deadline).', labelNames: ['handler_type', 'outcome'], registers });
    const waited = new Histogram({ name: 'onex_rate_limit_wait_seconds', help: 'How long calls waited for a rate-limit token.', labelNames: ['handler_type'], buckets: WAIT_BUCKETS, registers });
    const bulkhead = new Counter({ name: 'onex_bulkhead_rejections_total', help: 'Calls refused because the handler bulkhead was full.', labelNames: ['handler_type'], registers });
    const timeouts = new Counter({ name: 'onex_handler_timeouts_total', help: 'Handler calls cut off by timeout_ms (reason timeout), or refused or cut off by the envelope deadline (reason deadline).', labelNames: ['handler_type', 'reason'], registers });
    const type = (handlerType: string): string => this.#bounds.handlerType(handlerType);
    return {
      // Attempts and retries are counted per envelope by the host's retry loop (with the node label).
      attempt: () => undefined,
      retryScheduled: () => undefined,
      circuitStateChanged(handlerType: string, from: CircuitState, to: CircuitState) {
        const t = type(handlerType);
        for (const s of CIRCUIT_STATES) state.labels(t, s).set(s === to ? 1 : 0);
        if (from !== to) transitions.labels(t, to).inc();
      },
      rateLimitWait(handlerType: string, waitedMs: number) {
        const t = type(handlerType);
        waits.labels(t, 'admitted').inc();
        waited.labels(t).observe(waitedMs / 1000);
      },
      rateLimited: (handlerType: string) => waits.labels(type(handlerType), 'rejected').inc(),
      bulkheadRejected: (handlerType: string) => bulkhead.labels(type(handlerType)).inc(),
      timedOut: (handlerType: string) => timeouts.labels(type(handlerType), 'timeout').inc(),
      expired: (handlerType: string) => timeouts.labels(type(handlerType), 'deadline').inc(),
      circuitRejected: (handlerType: string) => circuitRejected.labels(type(handlerType)).inc(),
    };
  }
}

interface BusGauges {
  readonly lag: number;
  readonly pending: number;
  readonly paused: boolean;
}
const NO_BUS: BusGauges = { lag: 0, pending: 0, paused: false };

/**
 * Lag, pending and paused from a bus's health report: the Kafka bus reports `lag`,
 * `unfinished` and `paused`; the in-memory bus `queue_depth` per topic and `unsettled`.
 */
export function busGaugesOf(health: Readonly<Record<string, unknown>>, inputTopic: string): BusGauges {
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const depths = health.queue_depth;
  const depth = typeof depths === 'object' && depths !== null ? num((depths as Record<string, unknown>)[inputTopic]) : undefined;
  return {
    lag: num(health.lag) ?? depth ?? 0,
    pending: num(health.unfinished) ?? num(health.unsettled) ?? 0,
    paused: health.paused === true,
  };
}
