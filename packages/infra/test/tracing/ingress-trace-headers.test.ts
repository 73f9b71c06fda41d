/**
 * W3C `traceparent`/`tracestate` HTTP headers on POST /v1/envelopes: an HTTP caller that
 * traces (an instrumented client, a gateway) sends its context as headers, not in the
 * envelope body. The host carries them into the envelope when the metadata has none, by the
 * same validation rules; no SDK is installed here, so the response repeats what came in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withHeaderTraceContext } from '../../src/tracing/trace-context.js';
import { Cleanup, requestFactory } from '../runtime/fakes.js';
import { postJson, serve } from '../security/ingress-kit.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe.each(['bus', 'direct'] as const)('traceparent header on POST /v1/envelopes (%s path)', (path) => {
  it('carries the headers into the envelope when its metadata has none', async () => {
    const { url, handler } = await serve(cleanup, { path });
    const res = await postJson(url, { operation: 'http.get', payload: {}, metadata: { tenant_id: 'acme' } }, undefined, { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(res.status).toBe(200);
    expect(handler.calls[0]?.envelope.metadata).toEqual({ tenant_id: 'acme', traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(res.json?.metadata).toEqual({ tenant_id: 'acme', traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
  });

  it('lets the envelope metadata win over the headers', async () => {
    const { url, handler } = await serve(cleanup, { path });
    const res = await postJson(url, { operation: 'http.get', payload: {}, metadata: { traceparent: OTHER } }, undefined, { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(res.status).toBe(200);
    expect(handler.calls[0]?.envelope.metadata).toEqual({ traceparent: OTHER });
  });

  it('drops a malformed traceparent header (and its tracestate) without failing the request', async () => {
    const { url, handler } = await serve(cleanup, { path });
    for (const bad of [TRACEPARENT.toUpperCase(), '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', `${TRACEPARENT}-extra`]) {
      const res = await postJson(url, { operation: 'http.get', payload: {} }, undefined, { traceparent: bad, tracestate: 'vendor=abc' });
      expect(res.status, bad).toBe(200);
      expect(res.json?.metadata, bad).toEqual({});
    }
    for (const call of handler.calls) expect(call.envelope.metadata).toEqual({});
  });
});

describe('withHeaderTraceContext', () => {
  const request = requestFactory();
  it('returns the envelope itself when there is nothing to carry', () => {
    const envelope = request({ operation: 'http.get' });
    expect(withHeaderTraceContext(envelope, undefined)).toBe(envelope);
    expect(withHeaderTraceContext(envelope, { tracestate: 'vendor=abc' })).toBe(envelope);
  });

  it('keeps an over-long tracestate out and the traceparent in', () => {
    const envelope = request({ operation: 'http.get' });
    expect(withHeaderTraceContext(envelope, { traceparent: TRACEPARENT, tracestate: `v=${'a'.repeat(600)}` }).metadata).toEqual({ traceparent: TRACEPARENT });
  });
});
