/**
 * A Prometheus histogram for the per-call hot path, registered on a prom-client `Registry`
 * and exposed by prom-client like any of its own metrics.
 *
 * Why not prom-client's `Histogram`: its `observe` converts, validates and hashes the label
 * set on every call, even through a `labels()` child, which was ≈ 8 % of the CPU of a no-op
 * round trip (docs/benchmarks.md, "Policy and observability stack"). Here a label set
 * becomes a {@link HistogramSeries} once, and `observe` is a bucket search and three
 * additions. Exposition is left to prom-client: a registry reads a metric's `name`, `help`,
 * `type`, `aggregator`, `get()` and `reset()`, and formats the values `get()` returns; the
 * series names and labels are those of prom-client's histogram (`_bucket` with `le`,
 * `_sum`, `_count`).
 */
import type { Metric, Registry } from 'prom-client';

/** One sample as prom-client's exposition reads it (its own typings mistype `type` as an enum). */
interface SampleValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

interface HistogramSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly SampleValue[];
}

/** One label set of the histogram. */
export interface HistogramSeries {
  /** Records one value (in the histogram's unit, e.g. seconds). */
  observe(value: number): void;
}

class Series implements HistogramSeries {
  /** Per-bucket (not cumulative) counts; the last slot is above every bound (`+Inf`). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(value: number): void {
    // prom-client throws on a non-finite value; a duration from a monotonic clock never is one.
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export interface BucketHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

export class BucketHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly L[];
  readonly #bounds: Float64Array;
  readonly #series = new Map<string, Series>();

  constructor(options: BucketHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    this.#bounds = Float64Array.from(options.buckets);
    for (let i = 1; i < this.#bounds.length; i += 1) {
      if ((this.#bounds[i] as number) <= (this.#bounds[i - 1] as number)) throw new Error(`${this.name}: buckets must be ascending`);
    }
    // The registry only keeps the metric and later calls get()/reset(): prom-client's type
    // lists its own classes, not that interface.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set, in `labelNames` order. Callers keep it: this lookup builds a key. */
  labels(...values: string[]): HistogramSeries {
    if (values.length !== this.#labelNames.length) throw new Error(`${this.name}: expected ${this.#labelNames.length} label values, got ${values.length}`);
    const key = values.join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => (labels[name] = values[i] as string));
      series = new Series(Object.freeze(labels), this.#bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  /** What prom-client formats: per series, cumulative `_bucket` counts by `le`, then `_sum` and `_count`. */
  get(): Promise<HistogramSnapshot> {
    const bucketName = `${this.name}_bucket`;
    const values: SampleValue[] = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += s.counts[i] as number;
        values.push({ metricName: bucketName, labels: { ...s.labels, le: bound }, value: cumulative });
      });
      values.push(
        { metricName: bucketName, labels: { ...s.labels, le: '+Inf' }, value: s.count },
        { metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum },
        { metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()`); series already handed out keep counting from zero. */
  reset(): void {
    for (const s of this.#series.values()) s.zero();
  }
}
