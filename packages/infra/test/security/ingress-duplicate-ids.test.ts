import type { JsonValue } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, FakeHandler, Gate, eventually } from '../runtime/fakes.js';
import { ALICE, BOB, postJson, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const SHARED_ID = '5e5e5e5e-0000-4000-8000-000000000001';

describe.each(['bus', 'direct'] as const)('ingress attack: two clients send the same envelope_id at once (%s path)', (path) => {
  it('each gets its own result, and a resend gets its own recorded result back', async () => {
    const gate = new Gate();
    const handler = new FakeHandler('http', {
      behaviour: async (envelope): Promise<JsonValue> => {
        await gate.wait();
        return { echo: envelope.payload };
      },
    });
    const { url } = await serve(cleanup, { handlers: [handler], path, ingress: { authTokens: [ALICE, BOB] } });
    const alice = postJson(url, { envelope_id: SHARED_ID, operation: 'http.get', payload: { from: 'alice' } }, ALICE.token);
    const bob = postJson(url, { envelope_id: SHARED_ID, operation: 'http.get', payload: { from: 'bob' } }, BOB.token);
    // Both are running before either answers: the second was not folded into the first.
    await eventually(() => expect(handler.calls).toHaveLength(2));
    gate.open();
    const [a, b] = await Promise.all([alice, bob]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.json).toMatchObject({ causation_id: SHARED_ID, success: true, payload: { echo: { from: 'alice' } } });
    expect(b.json).toMatchObject({ causation_id: SHARED_ID, success: true, payload: { echo: { from: 'bob' } } });

    // Dedup is per client: each resend replays that client's own answer, nothing runs again.
    const againBob = await postJson(url, { envelope_id: SHARED_ID, operation: 'http.get', payload: { from: 'bob' } }, BOB.token);
    expect(againBob.json).toMatchObject({ payload: { echo: { from: 'bob' } } });
    const againAlice = await postJson(url, { envelope_id: SHARED_ID, operation: 'http.get', payload: { from: 'alice' } }, ALICE.token);
    expect(againAlice.json).toMatchObject({ payload: { echo: { from: 'alice' } } });
    // The id reused for another request is refused (409), never answered with the first answer.
    const reused = await postJson(url, { envelope_id: SHARED_ID, operation: 'http.get', payload: { from: 'mallory' } }, BOB.token);
    expect(reused.status).toBe(409);
    expect(reused.json).toMatchObject({ success: false, error: { code: 'IDEMPOTENCY_KEY_CONFLICT' } });
    expect(handler.calls).toHaveLength(2);
  });
});
