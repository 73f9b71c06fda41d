import { afterEach, describe, expect, it } from 'vitest';
import { ONEX_ORIGIN_HOST_HEADER } from '../../src/runtime/ingress-server.js';
import { Cleanup } from '../runtime/fakes.js';
import { postJson, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('ingress attack: the host calls itself through its http handler', () => {
  it('refuses a request carrying its own host id with 508 and never executes it; other hosts are served', async () => {
    const { url, handler } = await serve(cleanup, { hostId: 'orders-7f3a9c21' });
    const loop = await postJson(url, { operation: 'http.get', payload: {} }, undefined, { [ONEX_ORIGIN_HOST_HEADER]: 'orders-7f3a9c21' });
    expect(loop.status).toBe(508);
    expect(loop.json).toMatchObject({ is_response: true, success: false, error: { code: 'INGRESS_LOOP_DETECTED' } });
    expect(handler.calls).toHaveLength(0);

    const other = await postJson(url, { operation: 'http.get', payload: {} }, undefined, { [ONEX_ORIGIN_HOST_HEADER]: 'billing-00aa11bb' });
    expect(other.status).toBe(200);
    expect(handler.calls).toHaveLength(1);
  });
});
