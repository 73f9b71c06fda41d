import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { WarningLimiter } from '../../src/logging/warning-limiter.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';

/** A real pino logger whose lines are kept as parsed JSON. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('WarningLimiter', () => {
  it('lets maxPerWindow identical warnings through, then one "suppressed" line when the window ends', async () => {
    const { logger, lines } = capturedLogger();
    const scheduler = new ManualScheduler();
    const limiter = new WarningLimiter({ logger, scheduler, maxPerWindow: 3, windowMs: 1000 });

    for (let i = 0; i < 50; i += 1) limiter.warn({ reason: 'bad_token', route: 'POST /v1/envelopes' }, 'ingress: authentication failed', { attempt: i });
    expect(lines.map((l) => l.msg)).toEqual(['ingress: authentication failed', 'ingress: authentication failed', 'ingress: authentication failed']);
    expect(lines[0]).toMatchObject({ level: 'warn', reason: 'bad_token', route: 'POST /v1/envelopes', attempt: 0 });

    await scheduler.advance(1000);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ level: 'warn', msg: 'suppressed 47 similar warnings', suppressed: 47, reason: 'bad_token', suppressed_message: 'ingress: authentication failed' });

    // A new window starts fresh.
    limiter.warn({ reason: 'bad_token', route: 'POST /v1/envelopes' }, 'ingress: authentication failed');
    expect(lines).toHaveLength(5);
  });

  it('limits each key on its own: a different reason or message is not suppressed by another', () => {
    const { logger, lines } = capturedLogger();
    const limiter = new WarningLimiter({ logger, scheduler: new ManualScheduler(), maxPerWindow: 1 });
    limiter.warn({ reason: 'a' }, 'm');
    limiter.warn({ reason: 'a' }, 'm');
    limiter.warn({ reason: 'b' }, 'm');
    limiter.warn({ reason: 'a' }, 'other');
    expect(lines.map((l) => [l.msg, l.reason])).toEqual([['m', 'a'], ['m', 'b'], ['other', 'a']]);
  });

  it('caps the keys it tracks: varying the key fields cannot grow memory or dodge the limit', () => {
    const { logger, lines } = capturedLogger();
    const limiter = new WarningLimiter({ logger, scheduler: new ManualScheduler(), maxPerWindow: 5, maxKeys: 2 });
    for (let i = 0; i < 100; i += 1) limiter.warn({ client: `c${i}` }, 'm');
    expect(lines).toHaveLength(2);
    limiter.flush();
    expect(lines[2]).toMatchObject({ msg: 'suppressed 98 similar warnings', suppressed_message: 'warnings' });
  });

  it('flush() reports what was suppressed and emits nothing for keys without suppression', () => {
    const { logger, lines } = capturedLogger();
    const limiter = new WarningLimiter({ logger, scheduler: new ManualScheduler(), maxPerWindow: 1 });
    limiter.warn({ k: 1 }, 'x');
    limiter.warn({ k: 1 }, 'x');
    limiter.warn({ k: 2 }, 'x');
    limiter.flush();
    expect(lines.map((l) => l.msg)).toEqual(['x', 'x', 'suppressed 1 similar warnings']);
  });
});
