// The metrics module without a host: the resilience observer sink, label bounds, the bus
// gauges, the no-op when off, and secret redaction of the logger.
import { describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { createLogger } from '../../src/logging/logger.js';
import { busGaugesOf, createHostMetrics, type HostMetrics } from '../../src/observability/host-metrics.js';
import { LabelBounds } from '../../src/observability/label-bounds.js';
import { NOOP_RESILIENCE_OBSERVER } from '../../src/resilience/resilience-observer.js';

const BOUNDS = { nodes: [{ slug: 'orders', allowedOperations: ['db.query', 'http.get'] }], handlers: [{ handlerType: 'db', supportedOperations: ['db.query', 'db.execute'] }, { handlerType: 'http', supportedOperations: ['http.get'] }] };

async function samples(metrics: HostMetrics, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = (await metrics.registry?.getMetricsAsJSON())?.find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }));
}

describe('resilience observer sink', () => {
  it('exports the circuit state per handler as one 1 among closed/open/half_open, and counts transitions', async () => {
    const metrics = createHostMetrics({ defaultMetrics: false });
    metrics.bound(BOUNDS);
    const observer = metrics.resilience;
    observer.circuitStateChanged('db', 'closed', 'closed');
    observer.circuitStateChanged('db', 'closed', 'open');
    expect(await samples(metrics, 'onex_circuit_state')).toEqual([
      { labels: { handler_type: 'db', state: 'closed' }, value: 0 },
      { labels: { handler_type: 'db', state: 'open' }, value: 1 },
      { labels: { handler_type: 'db', state: 'half_open' }, value: 0 },
    ]);
    observer.circuitStateChanged('db', 'open', 'half_open');
    observer.circuitStateChanged('db', 'half_open', 'closed');
    // The wiring call (closed → closed) is not a transition.
    expect(await samples(metrics, 'onex_circuit_transitions_total')).toEqual([
      { labels: { handler_type: 'db', to: 'open' }, value: 1 },
      { labels: { handler_type: 'db', to: 'half_open' }, value: 1 },
      { labels: { handler_type: 'db', to: 'closed' }, value: 1 },
    ]);
  });

  it('counts rate-limit waits with their outcome and duration, bulkhead and circuit rejections, and timeouts', async () => {
    const metrics = createHostMetrics({ defaultMetrics: false });
    metrics.bound(BOUNDS);
    const o = metrics.resilience;
    o.rateLimitWait('http', 250);
    o.rateLimited('http');
    o.bulkheadRejected('http');
    o.circuitRejected('db');
    o.expired('db', 'db.query');
    expect(await samples(metrics, 'onex_rate_limit_waits_total')).toEqual([
      { labels: { handler_type: 'http', outcome: 'admitted' }, value: 1 },
      { labels: { handler_type: 'http', outcome: 'rejected' }, value: 1 },
    ]);
    const waited = (await samples(metrics, 'onex_rate_limit_wait_seconds')).find((s) => s.labels.le === 0.25);
    expect(waited).toEqual({ labels: { handler_type: 'http', le: 0.25 }, value: 1 });
    expect(await samples(metrics, 'onex_bulkhead_rejections_total')).toEqual([{ labels: { handler_type: 'http' }, value: 1 }]);
    expect(await samples(metrics, 'onex_circuit_rejections_total')).toEqual([{ labels: { handler_type: 'db' }, value: 1 }]);
    expect(await samples(metrics, 'onex_handler_timeouts_total')).toEqual([{ labels: { handler_type: 'db', reason: 'deadline' }, value: 1 }]);
  });

  it('folds a handler type the host did not register into "other"', async () => {
    const metrics = createHostMetrics({ defaultMetrics: false });
    metrics.bound(BOUNDS);
    metrics.resilience.bulkheadRejected('not-registered-7f3a');
    expect(await samples(metrics, 'onex_bulkhead_rejections_total')).toEqual([{ labels: { handler_type: 'other' }, value: 1 }]);
  });

  it('is a no-op, with no registry, when metrics are off', async () => {
    const metrics = createHostMetrics({ enabled: false });
    expect(metrics.resilience).toBe(NOOP_RESILIENCE_OBSERVER);
    expect(metrics.registry).toBeUndefined();
    expect(await metrics.scrape()).toBeUndefined();
    expect(metrics.envelope({ operation: 'db.query' })).toBe(metrics.invalid);
  });
});

describe('label bounds', () => {
  const bounds = new LabelBounds({ ...BOUNDS, nodes: [...BOUNDS.nodes, { slug: 'audit', allowedOperations: ['http.get'] }] });

  it('keeps registered values and folds everything else into "other"', () => {
    expect([bounds.handlerType('db'), bounds.handlerType('x')]).toEqual(['db', 'other']);
    expect([bounds.operation('db.execute'), bounds.operation('db.drop_everything')]).toEqual(['db.execute', 'other']);
    expect([bounds.node('orders', 'db.query'), bounds.node('a-made-up-node', 'db.query')]).toEqual(['orders', 'other']);
  });

  it('routes like NodeRuntime: the one node allowing the operation, else none', () => {
    expect(bounds.node(undefined, 'db.query')).toBe('orders');
    // Two nodes allow http.get: routing refuses it without target_node.
    expect(bounds.node(undefined, 'http.get')).toBe('none');
    expect(bounds.node(undefined, 'db.execute')).toBe('none');
  });

  it('caches one series per label set: an envelope costs no new series once seen', () => {
    const metrics = createHostMetrics({ defaultMetrics: false });
    metrics.bound(BOUNDS);
    const first = metrics.envelope({ operation: 'db.query' });
    expect(metrics.envelope({ operation: 'db.query', targetNode: 'orders' })).toBe(first);
    expect(metrics.envelope({ operation: 'db.made_up_1' })).toBe(metrics.envelope({ operation: 'db.made_up_2' }));
  });
});

describe('bus gauges', () => {
  it('reads Kafka lag, unfinished and paused from its health report', () => {
    expect(busGaugesOf({ kind: 'kafka', lag: 42, unfinished: 7, paused: true }, 'in')).toEqual({ lag: 42, pending: 7, paused: true });
  });

  it('reads the in-memory input queue depth and unsettled count', async () => {
    const bus = new InMemoryEventBus();
    await bus.publishEnvelope({ envelopeId: '00000000-0000-4000-8000-000000000001', envelopeVersion: '1.0.0', operation: 'db.query', payload: {}, metadata: {}, timestamp: '2024-01-01T00:00:00.000Z', isResponse: false }, 'in.topic');
    expect(busGaugesOf(await bus.healthCheck(), 'in.topic')).toEqual({ lag: 1, pending: 0, paused: false });
    await bus.shutdown();
  });
});

describe('logger redaction', () => {
  it('censors passwords, tokens, secrets and auth headers at the top level and nested', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) }, base: { runtime_id: 'rt-1' } });
    logger.warn(
      {
        password: 'pw-1',
        config: { password: 'pw-2', api_key: 'key-1', client_secret: 'cs-1' },
        headers: { authorization: 'Bearer tok-1', cookie: 'c-1', 'x-vault-token': 'vt-1' },
        req: { headers: { authorization: 'Bearer tok-2' } },
        err: { details: { password: 'pw-3', token: 'tok-3' } },
        vault: { secret_id: 'sid-1' },
      },
      'something failed',
    );
    const text = lines.join('');
    for (const secret of ['pw-1', 'pw-2', 'pw-3', 'key-1', 'cs-1', 'tok-1', 'tok-2', 'tok-3', 'c-1', 'vt-1', 'sid-1']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ runtime_id: 'rt-1', level: 'warn', msg: 'something failed', password: '***' });
  });
});
