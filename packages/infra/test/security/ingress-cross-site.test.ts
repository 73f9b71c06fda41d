import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../runtime/fakes.js';
import { postJson, request, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ENVELOPE = JSON.stringify({ operation: 'http.get', payload: {} });

describe('ingress attack: a web page drives the host', () => {
  it('refuses a text/plain POST (the "simple request" a form or fetch can send cross-site without preflight) with 415; nothing runs', async () => {
    const { url, handler } = await serve(cleanup);
    const res = await request(url, { headers: { 'content-type': 'text/plain' }, body: ENVELOPE });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ is_response: true, success: false, error: { code: 'INGRESS_UNSUPPORTED_MEDIA_TYPE' } });
    expect(handler.calls).toHaveLength(0);
  });

  it('refuses a browser cross-site request (Sec-Fetch-Site) with 403 even as text/plain; nothing runs', async () => {
    const { url, handler } = await serve(cleanup);
    for (const site of ['cross-site', 'same-site']) {
      const res = await request(url, { headers: { 'content-type': 'text/plain', 'sec-fetch-site': site, origin: 'https://evil.example' }, body: ENVELOPE });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ success: false, error: { code: 'INGRESS_FORBIDDEN' } });
    }
    expect(handler.calls).toHaveLength(0);
  });

  it('refuses an Origin whose host differs from the request Host with 403, even as application/json', async () => {
    const { url, handler } = await serve(cleanup);
    const res = await postJson(url, { operation: 'http.get', payload: {} }, undefined, { origin: 'http://127.0.0.1:1' });
    expect(res.status).toBe(403);
    expect(handler.calls).toHaveLength(0);
  });

  it('still serves a same-origin JSON request and a request without browser headers', async () => {
    const { url, handler } = await serve(cleanup);
    expect((await postJson(url, { operation: 'http.get', payload: {} }, undefined, { origin: url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await postJson(url, { operation: 'http.get', payload: {} })).status).toBe(200);
    expect(handler.calls).toHaveLength(2);
  });
});
