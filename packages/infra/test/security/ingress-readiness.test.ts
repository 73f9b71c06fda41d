import type { HandlerHealth } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNTIME_HOST_DEFAULTS } from '@onex/core';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { Cleanup, FakeHandler } from '../runtime/fakes.js';
import { request, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A handler whose health a test can flip, counting how often it was checked. */
class FlakyHandler extends FakeHandler {
  healthy = true;
  checks = 0;
  override async healthCheck(): Promise<HandlerHealth> {
    this.checks += 1;
    return this.healthy ? { healthy: true, handler_type: this.handlerType } : { healthy: false, handler_type: this.handlerType, error: 'connection refused' };
  }
}

describe('ingress: readiness tells the truth about handlers', () => {
  it('/health/ready is 503 naming the handler while its last health check failed, and 200 again once it passes', async () => {
    const scheduler = new ManualScheduler();
    const db = new FlakyHandler('db');
    const { url } = await serve(cleanup, { handlers: [new FakeHandler('http'), db], scheduler });
    const interval = RUNTIME_HOST_DEFAULTS.ingress.readinessProbeIntervalMs;
    await scheduler.advance(0);
    expect((await request(url, { method: 'GET', path: '/health/ready' })).status).toBe(200);

    db.healthy = false;
    // Readiness reads the cache: nothing changes until the next probe.
    expect((await request(url, { method: 'GET', path: '/health/ready' })).status).toBe(200);
    const checks = db.checks;
    await scheduler.advance(interval);
    expect(db.checks).toBe(checks + 1);
    const down = await request(url, { method: 'GET', path: '/health/ready' });
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ status: 'not_ready', ready: false, state: 'running' });
    expect(String(down.json?.not_ready_reason)).toContain('handler "db" failed its last health check: connection refused');

    db.healthy = true;
    await scheduler.advance(interval);
    expect((await request(url, { method: 'GET', path: '/health/ready' })).status).toBe(200);
  });
});
