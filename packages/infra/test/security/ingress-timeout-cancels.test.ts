import type { HandlerInvocationContext, JsonValue } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, FakeHandler, Gate, eventually } from '../runtime/fakes.js';
import { postJson, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Resolves when the call's signal aborts, and rejects then, as a handler cancelling its I/O does. */
function untilAborted(context: HandlerInvocationContext): Promise<JsonValue> {
  return new Promise((_resolve, reject) => {
    const signal = context.signal;
    if (signal === undefined) return;
    signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
  });
}

describe.each(['bus', 'direct'] as const)('ingress attack: work that outlives its caller (%s path)', (path) => {
  it('a 504 aborts the handler call in progress and says it may have run', async () => {
    const aborted: boolean[] = [];
    const handler = new FakeHandler('http', {
      behaviour: async (_envelope, context) => {
        try {
          return await untilAborted(context);
        } finally {
          aborted.push(context.signal?.aborted === true);
        }
      },
    });
    const { url, host } = await serve(cleanup, { handlers: [handler], path, ingress: { requestTimeoutMs: 150 } });
    const res = await postJson(url, { operation: 'http.get', payload: {} });
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ success: false, error: { code: 'INFRA_TIMEOUT', may_have_run: true } });
    expect(String((res.json?.error as { message: string }).message)).toContain('may have run');
    await eventually(() => expect(aborted).toEqual([true]));
    await eventually(() => expect(host.health().in_flight).toBe(0));
  });

  it('a request still waiting for a slot at its 504 never starts, and its 504 says it did not run', async () => {
    const release = new Gate();
    const handler = new FakeHandler('http', { executeGate: release });
    const { url, host } = await serve(cleanup, { handlers: [handler], path, settings: { maxInFlight: 1 }, ingress: { requestTimeoutMs: 150 } });
    const first = postJson(url, { operation: 'http.get', payload: { n: 1 } });
    await eventually(() => expect(handler.calls).toHaveLength(1));
    const queued = await postJson(url, { operation: 'http.get', payload: { n: 2 } });
    expect(queued.status).toBe(504);
    expect(queued.json).toMatchObject({ success: false, error: { code: 'INFRA_TIMEOUT', may_have_run: false } });
    expect(String((queued.json?.error as { message: string }).message)).toContain('not executed');
    expect((await first).status).toBe(504);

    // The slot frees up after both gave up: the queued request must still not start.
    release.open();
    await eventually(() => expect(host.health().in_flight).toBe(0));
    await new Promise((resolve) => setImmediate(resolve));
    expect(handler.calls.map((c) => c.envelope.payload)).toEqual([{ n: 1 }]);
  });
});
