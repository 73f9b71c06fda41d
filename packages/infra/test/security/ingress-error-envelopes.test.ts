import { isOnexErrorCode, ONEX_ERROR_CODES } from '@onex/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ONEX_ORIGIN_HOST_HEADER } from '../../src/runtime/ingress-server.js';
import { Cleanup, FakeHandler, Gate } from '../runtime/fakes.js';
import { ALICE, postJson, request, serve, UUID_RE, type RawResponse } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const CORRELATION = '0c0c0c0c-0000-4000-8000-00000000000c';

function expectErrorEnvelope(res: RawResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  // The status comes from the code table, the one place it is chosen.
  expect(isOnexErrorCode(code) ? ONEX_ERROR_CODES[code].httpStatus : undefined, code).toBe(status);
  expect(res.headers['content-type']).toContain('application/json');
  expect(res.json).toMatchObject({ is_response: true, success: false, error: { code } });
  expect(res.json?.correlation_id).toMatch(UUID_RE);
  expect(res.json?.envelope_id).toMatch(UUID_RE);
}

describe('ingress: every error answer is an envelope with a correlation id', () => {
  it('400, 401, 403, 404, 405, 413, 415, 508', async () => {
    const { url } = await serve(cleanup, { hostId: 'self-1', ingress: { authTokens: [ALICE], maxBodyBytes: 128 } });
    const auth = { authorization: `Bearer ${ALICE.token}` };
    expectErrorEnvelope(await request(url, { headers: { 'content-type': 'application/json', ...auth }, body: '{"operation":' }), 400, 'ENVELOPE_VALIDATION_ERROR');
    expectErrorEnvelope(await postJson(url, { operation: 'http.get' }), 401, 'INGRESS_UNAUTHENTICATED');
    expectErrorEnvelope(await postJson(url, { operation: 'http.get' }, ALICE.token, { 'sec-fetch-site': 'cross-site' }), 403, 'INGRESS_FORBIDDEN');
    expectErrorEnvelope(await request(url, { method: 'GET', path: '/nope' }), 404, 'INGRESS_ROUTE_NOT_FOUND');
    expectErrorEnvelope(await request(url, { method: 'DELETE', path: '/v1/envelopes', headers: auth }), 405, 'INGRESS_METHOD_NOT_ALLOWED');
    expectErrorEnvelope(await postJson(url, { operation: 'http.get', payload: { blob: 'x'.repeat(512) } }, ALICE.token), 413, 'INGRESS_BODY_TOO_LARGE');
    expectErrorEnvelope(await request(url, { headers: { 'content-type': 'text/plain', ...auth }, body: '{}' }), 415, 'INGRESS_UNSUPPORTED_MEDIA_TYPE');
    expectErrorEnvelope(await postJson(url, { operation: 'http.get' }, ALICE.token, { [ONEX_ORIGIN_HOST_HEADER]: 'self-1' }), 508, 'INGRESS_LOOP_DETECTED');
  });

  it('500 when the ingress itself fails, without the internal message details leaking a stack', async () => {
    const { url, host } = await serve(cleanup);
    vi.spyOn(host, 'submit').mockRejectedValue(new Error('boom'));
    const res = await postJson(url, { operation: 'http.get', correlation_id: CORRELATION });
    expectErrorEnvelope(res, 500, 'INTERNAL_ERROR');
    expect(res.body).not.toContain('    at ');
  });

  it('503 and 504 keep the request correlation id', async () => {
    const gate = new Gate();
    const { url, host } = await serve(cleanup, { handlers: [new FakeHandler('http', { executeGate: gate })], ingress: { requestTimeoutMs: 100 } });
    const timedOut = await postJson(url, { operation: 'http.get', correlation_id: CORRELATION });
    expectErrorEnvelope(timedOut, 504, 'INFRA_TIMEOUT');
    expect(timedOut.json?.correlation_id).toBe(CORRELATION);
    gate.open();
    await host.stop();
    const stopped = await postJson(url, { operation: 'http.get', correlation_id: CORRELATION });
    expectErrorEnvelope(stopped, 503, 'SHUTTING_DOWN');
    expect(stopped.json?.correlation_id).toBe(CORRELATION);
  });
});

