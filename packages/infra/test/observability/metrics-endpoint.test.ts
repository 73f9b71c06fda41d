// Scrapes GET /metrics of a real running host (in-memory bus, ingress on a free port) after
// real envelopes went through it, parses the text with a Prometheus exposition-format parser,
// and checks the series, their values and that their labels are bounded (no ids).
import { EffectNode, HandlerExecutionError, InfraConnectionError, toWireEnvelope, type OnexEnvelope } from '@onex/core';
import parsePrometheusTextFormat, { type PrometheusMetricFamily } from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { createLogger } from '../../src/logging/logger.js';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, requestFactory, testSettings } from '../runtime/fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const TOKEN = 'metrics-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** A db handler that fails transiently (retryable) or for good, as the payload says. */
function flakyDb(): FakeHandler {
  return new FakeHandler('db', {
    behaviour: (envelope) => {
      const payload = envelope.payload as { fail?: string };
      if (payload.fail === 'transient') throw new InfraConnectionError('connection refused by db.internal:5432', { transportType: 'db' });
      if (payload.fail === 'permanent') throw new HandlerExecutionError('the statement failed');
      return { ok: true };
    },
  });
}

async function serve(metrics: { enabled: boolean; defaultMetrics: boolean }, lines: string[] = []) {
  const host = new RuntimeHostProcess({
    settings: testSettings({
      handlers: [{ type: 'db', config: {} }],
      retryPolicies: { db: { maxRetries: 1, backoffStrategy: 'fixed', baseDelayMs: 1, maxDelayMs: 1 } },
      drainTimeoutMs: 2000,
      metrics,
    }),
    bus: new InMemoryEventBus(),
    nodes: [new EffectNode({ slug: 'orders', operations: ['db.fake'] })],
    handlerSource: new FakeHandlerSource([flakyDb()]),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    hostId: 'metrics-host-1',
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  const server = await startIngressServer(host, { port: 0, authTokens: [{ client: 'prometheus', token: TOKEN }] });
  cleanup.add(() => server.close(), server);
  return { host, url: server.url };
}

async function post(url: string, envelope: OnexEnvelope): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify(toWireEnvelope(envelope)) });
  return (await res.json()) as Record<string, unknown>;
}

async function scrape(url: string): Promise<PrometheusMetricFamily[]> {
  const res = await fetch(`${url}/metrics`, { headers: AUTH });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusTextFormat(await res.text());
}

function family(families: PrometheusMetricFamily[], name: string): PrometheusMetricFamily {
  const found = families.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no metric family ${name}; have: ${families.map((f) => f.name).join(', ')}`);
  return found;
}

/** The value of the sample whose labels are exactly `labels`. */
function value(families: PrometheusMetricFamily[], name: string, labels: Record<string, string>): number | undefined {
  const sample = family(families, name).metrics.find((m) => JSON.stringify(sortKeys(m.labels ?? {})) === JSON.stringify(sortKeys(labels)));
  if (sample === undefined) return undefined;
  return Number('value' in sample ? sample.value : sample.count);
}

/** `_count` per label set (handler_type|operation|outcome) of a histogram, from the host's registry. */
async function histogramCounts(host: RuntimeHostProcess, name: string): Promise<Record<string, number>> {
  const metric = (await host.metrics.registry?.getMetricsAsJSON())?.find((m) => m.name === name);
  const counts: Record<string, number> = {};
  for (const v of metric?.values ?? []) {
    if ((v as { metricName?: string }).metricName !== `${name}_count`) continue;
    const l = v.labels;
    counts[`${String(l.handler_type)}|${String(l.operation)}|${String(l.outcome)}`] = v.value;
  }
  return counts;
}

const sortKeys = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

describe('GET /metrics', () => {
  it('counts envelopes in and out, errors, retries and handler latency, with bounded labels', async () => {
    const { host, url } = await serve({ enabled: true, defaultMetrics: true });
    const request = requestFactory();
    const sent = [
      request({ operation: 'db.fake', payload: {} }),
      request({ operation: 'db.fake', payload: { fail: 'transient' } }),
      request({ operation: 'db.fake', payload: { fail: 'permanent' } }),
      // An operation nobody registered: counted under "other", never as its own series.
      request({ operation: 'db.made_up_by_a_caller_1234', payload: {} }),
    ];
    const answers = [];
    for (const envelope of sent) answers.push(await post(url, envelope));
    expect(answers.map((a) => a.success)).toEqual([true, false, false, false]);

    const families = await scrape(url);
    const node = { node: 'orders', handler_type: 'db', operation: 'db.fake' };
    expect(value(families, 'onex_envelopes_in_total', node)).toBe(3);
    expect(value(families, 'onex_envelopes_out_total', { ...node, outcome: 'success' })).toBe(1);
    expect(value(families, 'onex_envelopes_out_total', { ...node, outcome: 'error' })).toBe(2);
    expect(value(families, 'onex_envelopes_in_total', { node: 'none', handler_type: 'db', operation: 'other' })).toBe(1);
    expect(value(families, 'onex_envelope_errors_total', { handler_type: 'db', code: 'INFRA_CONNECTION_ERROR', retryable: 'true' })).toBe(1);
    expect(value(families, 'onex_envelope_errors_total', { handler_type: 'db', code: 'HANDLER_EXECUTION_ERROR', retryable: 'false' })).toBe(1);
    // The transient failure was retried once by the host's retry loop, and failed again.
    expect(value(families, 'onex_retries_total', { handler_type: 'db', operation: 'db.fake' })).toBe(1);
    expect(family(families, 'onex_handler_call_duration_seconds').type).toBe('HISTOGRAM');
    // parse-prometheus-text-format 1.1.1 merges the label sets of a histogram into one sample
    // (it drops their labels), so the counts per label set are checked in prom-client's JSON.
    const counts = await histogramCounts(host, 'onex_handler_call_duration_seconds');
    expect(counts).toEqual({ 'db|db.fake|success': 1, 'db|db.fake|error': 3 });
    // State read on scrape: nothing in flight now, the host-wide limit, the in-memory queue.
    expect(value(families, 'onex_in_flight_envelopes', {})).toBe(0);
    expect(value(families, 'onex_in_flight_max_envelopes', {})).toBe(16);
    expect(value(families, 'onex_in_flight_peak_envelopes', {})).toBeGreaterThanOrEqual(1);
    expect(value(families, 'onex_bus_lag_messages', { bus: 'inmemory' })).toBe(0);
    expect(value(families, 'onex_bus_paused', { bus: 'inmemory' })).toBe(0);
    expect(value(families, 'onex_drain_envelopes_total', { result: 'abandoned' })).toBe(0);
    // The resilience wrapper's series exist once it reports; the default process metrics are on.
    expect(family(families, 'process_cpu_user_seconds_total').type).toBe('COUNTER');
    expect(family(families, 'nodejs_eventloop_lag_seconds').type).toBe('GAUGE');

    // No id of any envelope (or any UUID at all) is a label value.
    const ids = new Set(sent.flatMap((e) => [e.envelopeId, e.correlationId ?? '']));
    for (const f of families.filter((x) => x.name.startsWith('onex_'))) {
      for (const m of f.metrics) {
        for (const [label, v] of Object.entries(m.labels ?? {})) {
          expect(ids.has(v), `${f.name}{${label}="${v}"}`).toBe(false);
          expect(v, `${f.name}{${label}}`).not.toMatch(UUID);
        }
      }
    }
    expect(JSON.stringify(families)).not.toContain('made_up_by_a_caller');
  });

  it('needs the bearer token when the ingress has tokens, like /health/handlers', async () => {
    const { url } = await serve({ enabled: true, defaultMetrics: false });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INGRESS_UNAUTHENTICATED');
    // Probes stay open.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  });

  it('answers 404 with a hint when metrics are off, and counts nothing', async () => {
    const { host, url } = await serve({ enabled: false, defaultMetrics: false });
    await post(url, requestFactory()({ operation: 'db.fake', payload: {} }));
    const res = await fetch(`${url}/metrics`, { headers: AUTH });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; hint: string } };
    expect(body.error.code).toBe('INGRESS_ROUTE_NOT_FOUND');
    expect(body.error.hint).toContain('runtime.observability.metrics.enabled');
    expect(host.metrics.enabled).toBe(false);
  });

  it('keeps two hosts in one process apart: each has its own registry', async () => {
    const a = await serve({ enabled: true, defaultMetrics: true });
    const b = await serve({ enabled: true, defaultMetrics: true });
    await post(a.url, requestFactory()({ operation: 'db.fake', payload: {} }));
    const node = { node: 'orders', handler_type: 'db', operation: 'db.fake' };
    expect(value(await scrape(a.url), 'onex_envelopes_in_total', node)).toBe(1);
    expect(value(await scrape(b.url), 'onex_envelopes_in_total', node)).toBeUndefined();
  });
});

describe('logs of a failing envelope', () => {
  it('carry runtime_id, node, handler_type, operation, envelope_id and correlation_id, and no secret', async () => {
    const lines: string[] = [];
    const { url } = await serve({ enabled: true, defaultMetrics: false }, lines);
    const envelope = requestFactory()({ operation: 'db.fake', payload: { fail: 'transient' }, correlationId: '1a2b3c4d-0000-4000-8000-0000000000aa' });
    await post(url, envelope);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = { runtime_id: 'metrics-host-1', node: 'orders', handler_type: 'db', operation: 'db.fake', correlation_id: envelope.correlationId };
    const retry = parsed.find((l) => l.msg === 'retryable failure; retrying');
    expect(retry).toMatchObject({ ...expected, envelope_id: envelope.envelopeId, attempt: 1, max_attempts: 2, error_code: 'INFRA_CONNECTION_ERROR', level: 'warn' });
    const failed = parsed.find((l) => l.msg === 'envelope failed');
    expect(failed).toMatchObject({ ...expected, envelope_id: envelope.envelopeId, error_code: 'INFRA_CONNECTION_ERROR', retryable: true, level: 'warn' });
    // Every line of the host is JSON with its runtime_id; the bearer token appears nowhere.
    expect(parsed.every((l) => l.runtime_id === 'metrics-host-1')).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
