import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from '../../src/observability/bucket-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const LABELS = ['handler_type', 'outcome'] as const;

/** The exposition lines, each with its labels sorted, so label order does not matter. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/\{([^}]*)\}/, (_m, inner: string) => `{${inner.split(',').sort().join(',')}}`))
    .sort();
}

describe('BucketHistogram', () => {
  it('exposes what prom-client\'s own Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new BucketHistogram({ name: 'call_seconds', help: 'Calls.', labelNames: LABELS, buckets: BUCKETS, registers: [ours] });
    const reference = new Histogram({ name: 'call_seconds', help: 'Calls.', labelNames: [...LABELS], buckets: BUCKETS, registers: [theirs] });
    // On the bounds, between them, below the first and above the last.
    const samples: Array<[string, string, number]> = [
      ['http', 'success', 0.001],
      ['http', 'success', 0.0005],
      ['http', 'error', 0.5],
      ['db', 'success', 1],
      ['db', 'success', 7.25],
      ['http', 'success', 0.01],
    ];
    for (const [type, outcome, value] of samples) {
      fast.labels(type, outcome).observe(value);
      reference.labels(type, outcome).observe(value);
    }
    expect(lines(await ours.metrics())).toEqual(lines(await theirs.metrics()));
    expect(await ours.metrics()).toContain('call_seconds_bucket{handler_type="db",outcome="success",le="+Inf"} 2');
  });

  it('hands out one series per label set, zeroes on reset, and refuses a wrong label count or descending buckets', async () => {
    const registry = new Registry();
    const h = new BucketHistogram({ name: 'x_seconds', help: 'X.', labelNames: LABELS, buckets: BUCKETS, registers: [registry] });
    const series = h.labels('http', 'success');
    expect(h.labels('http', 'success')).toBe(series);
    series.observe(0.2);
    registry.resetMetrics();
    series.observe(0.02);
    const text = await registry.metrics();
    expect(text).toContain('x_seconds_count{handler_type="http",outcome="success"} 1');
    expect(text).toContain('x_seconds_sum{handler_type="http",outcome="success"} 0.02');
    expect(() => h.labels('http')).toThrow(/expected 2 label values/);
    expect(() => new BucketHistogram({ name: 'y', help: 'Y.', labelNames: LABELS, buckets: [1, 0.5], registers: [] })).toThrow(/ascending/);
  });
});
