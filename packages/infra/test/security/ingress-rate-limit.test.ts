/**
 * The ingress's per-client rate limit on POST /v1/envelopes, on a manual clock: a client over
 * its bucket gets 429 with Retry-After and INFRA_RATE_LIMITED (never executed), other clients
 * are not affected, the bucket refills, refusals are counted per client name, and the buckets
 * kept for addresses stay bounded however many addresses call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IngressRateLimiter, ingressClientKey } from '../../src/runtime/ingress-rate-limiter.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { Cleanup } from '../runtime/fakes.js';
import { ALICE, BOB, postJson, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const REQUEST = { operation: 'http.get', payload: {} };

describe('ingress per-client rate limit', () => {
  it('answers a client over its burst with 429, Retry-After and INFRA_RATE_LIMITED, unexecuted; other clients still pass; the bucket refills', async () => {
    const scheduler = new ManualScheduler();
    const { url, handler, host } = await serve(cleanup, { ingress: { authTokens: [ALICE, BOB], rateLimit: { perSecond: 0.5, burst: 2 }, scheduler } });
    expect((await postJson(url, REQUEST, ALICE.token)).status).toBe(200);
    expect((await postJson(url, REQUEST, ALICE.token)).status).toBe(200);

    const limited = await postJson(url, REQUEST, ALICE.token);
    expect(limited.status).toBe(429);
    // One token every 2 s: the next is 2000 ms away.
    expect(limited.headers['retry-after']).toBe('2');
    expect(limited.json).toMatchObject({ is_response: true, success: false, error: { code: 'INFRA_RATE_LIMITED', retryable: true, retry_after_ms: 2000 } });
    expect(typeof limited.json?.correlation_id).toBe('string');
    expect(handler.calls).toHaveLength(2);

    // Bob has a bucket of his own.
    expect((await postJson(url, REQUEST, BOB.token)).status).toBe(200);

    await scheduler.advance(1_000);
    const soon = await postJson(url, REQUEST, ALICE.token);
    expect(soon.status).toBe(429);
    expect(soon.json).toMatchObject({ error: { retry_after_ms: 1000 } });
    await scheduler.advance(1_000);
    expect((await postJson(url, REQUEST, ALICE.token)).status).toBe(200);
    expect(handler.calls).toHaveLength(4);

    const metrics = (await host.metrics.scrape())?.body ?? '';
    expect(metrics).toMatch(/^onex_ingress_rate_limited_total\{client="alice"\} 2$/m);
    expect(metrics).not.toMatch(/onex_ingress_rate_limited_total\{client="bob"\}/);
  });

  it('limits per remote address when the ingress has no tokens, counted as "anonymous" (no address in labels)', async () => {
    const scheduler = new ManualScheduler();
    const { url, handler, host } = await serve(cleanup, { ingress: { rateLimit: { perSecond: 1, burst: 1 }, scheduler } });
    expect((await postJson(url, REQUEST)).status).toBe(200);
    const limited = await postJson(url, REQUEST);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(handler.calls).toHaveLength(1);
    const metrics = (await host.metrics.scrape())?.body ?? '';
    expect(metrics).toMatch(/^onex_ingress_rate_limited_total\{client="anonymous"\} 1$/m);
    expect(metrics).not.toContain('127.0.0.1');
  });

  it('does not limit anything without rate_limit, nor the probes with it', async () => {
    const scheduler = new ManualScheduler();
    const { url } = await serve(cleanup, { ingress: { scheduler } });
    for (let i = 0; i < 5; i += 1) expect((await postJson(url, REQUEST)).status).toBe(200);
    const limited = await serve(cleanup, { ingress: { rateLimit: { perSecond: 1, burst: 1 }, scheduler } });
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${limited.url}/health/ready`);
      expect(res.status).toBe(200);
    }
  });
});

describe('IngressRateLimiter buckets', () => {
  it('keeps at most maxTracked buckets however many addresses call, dropping the least recently used', () => {
    const scheduler = new ManualScheduler();
    const limiter = new IngressRateLimiter({ perSecond: 1, burst: 1 }, scheduler, { maxTracked: 100 });
    for (let i = 0; i < 1_000; i += 1) expect(limiter.admit(`addr:10.0.${Math.floor(i / 256)}.${i % 256}`).admitted).toBe(true);
    expect(limiter.tracked).toBe(100);
    // A busy address that keeps calling stays tracked (and limited) while newcomers churn.
    const busy = 'addr:192.0.2.1';
    expect(limiter.admit(busy).admitted).toBe(true);
    for (let i = 0; i < 50; i += 1) limiter.admit(`addr:198.51.100.${i}`);
    expect(limiter.admit(busy)).toEqual({ admitted: false, retryAfterMs: 1000 });
  });

  it('drops buckets that have refilled: an idle address costs nothing after its refill time', async () => {
    const scheduler = new ManualScheduler();
    const limiter = new IngressRateLimiter({ perSecond: 1, burst: 2 }, scheduler);
    for (let i = 0; i < 10; i += 1) limiter.admit(`addr:203.0.113.${i}`);
    expect(limiter.tracked).toBe(10);
    await scheduler.advance(2_000);
    // Each admission looks at a couple of the oldest buckets; refilled ones go.
    for (let i = 0; i < 5; i += 1) limiter.admit('addr:192.0.2.7');
    expect(limiter.tracked).toBe(1);
  });

  it('keys a caller by client name, else by IPv4 address or IPv6 /64', () => {
    expect(ingressClientKey('alice', '10.0.0.1')).toBe('client:alice');
    expect(ingressClientKey(undefined, '10.0.0.1')).toBe('addr:10.0.0.1');
    expect(ingressClientKey(undefined, '::ffff:10.0.0.1')).toBe('addr:10.0.0.1');
    expect(ingressClientKey(undefined, '2001:db8:1:2:aaaa::1')).toBe('addr:2001:db8:1:2::/64');
    expect(ingressClientKey(undefined, '2001:DB8:1:2:bbbb:cccc:dddd:eeee')).toBe('addr:2001:db8:1:2::/64');
    expect(ingressClientKey(undefined, '2001:db8::1')).toBe('addr:2001:db8:0:0::/64');
    expect(ingressClientKey(undefined, '::1')).toBe('addr:0:0:0:0::/64');
    expect(ingressClientKey(undefined, undefined)).toBe('addr:unknown');
  });
});
