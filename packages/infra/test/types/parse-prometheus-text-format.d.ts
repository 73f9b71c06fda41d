// The package ships no types; this is the shape its README documents (Prometheus text
// exposition format in, metric families out; histogram and summary samples carry buckets or
// quantiles, count and sum instead of a value).
declare module 'parse-prometheus-text-format' {
  export interface PrometheusSample {
    readonly value: string;
    readonly labels?: Record<string, string>;
    readonly timestamp_ms?: string;
  }
  export interface PrometheusHistogramSample {
    readonly buckets: Record<string, string>;
    readonly count: string;
    readonly sum: string;
    readonly labels?: Record<string, string>;
  }
  export interface PrometheusMetricFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly (PrometheusSample | PrometheusHistogramSample)[];
  }
  export default function parsePrometheusTextFormat(text: string): PrometheusMetricFamily[];
}
