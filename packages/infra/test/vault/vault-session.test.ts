/**
 * Renewal scheduling of the Vault session on a manual clock, with a scripted transport:
 * the branches a real server only reaches with long waits or cannot be made to take
 * (renewal refused for token auth, re-login after a failed renewal, transient failures,
 * an aborted call).
 */
import { SecretString, type JsonValue } from '@onex/core';
import { describe, expect, it } from 'vitest';
import { openVaultSession } from '../../src/vault/vault-session.js';
import type { VaultRequest, VaultTransport } from '../../src/vault/vault-transport.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { memoryLogger, rejection } from '../handlers/db/db-test-kit.js';

type Reply = JsonValue | Error;
const denied = () => Object.assign(new Error('permission denied'), { response: { statusCode: 403, body: { errors: ['permission denied'] } } });
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const auth = (token: string, ttl: number, renewable = true) => ({ auth: { client_token: token, lease_duration: ttl, renewable } });

/** Answers each path from a queue of replies (the last one repeats); records what was asked. */
class ScriptedTransport implements VaultTransport {
  readonly requests: VaultRequest[] = [];
  readonly #replies = new Map<string, Reply[]>();

  on(path: string, ...replies: Reply[]): this {
    this.#replies.set(path, replies);
    return this;
  }

  send(request: VaultRequest): Promise<unknown> {
    this.requests.push(request);
    const queue = this.#replies.get(request.path);
    if (queue === undefined || queue.length === 0) return Promise.reject(new Error(`unscripted ${request.method} ${request.path}`));
    const reply = queue.length > 1 ? queue.shift() : queue[0];
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }
}

const token = SecretString.of('s.tokentokentokentokentoken');

describe('VaultSession renewal', () => {
  it('renews a token at the ratio of its TTL, on the scheduler', async () => {
    const scheduler = new ManualScheduler();
    const transport = new ScriptedTransport().on('auth/token/lookup-self', { data: { ttl: 30, renewable: true } }).on('auth/token/renew-self', auth('s.renewedrenewedrenewed', 30));
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 1_000, renewRatio: 0.5, scheduler, transport });
    await scheduler.advance(14_000);
    expect(transport.count('auth/token/renew-self')).toBe(0);
    await scheduler.advance(1_000);
    expect(transport.count('auth/token/renew-self')).toBe(1);
    expect(session.health()).toMatchObject({ healthy: true, renewals: 1, ttl_seconds_left: 30, auth_method: 'token' });
    await scheduler.advance(15_000);
    expect(transport.count('auth/token/renew-self')).toBe(2);
    session.close();
    await scheduler.advance(60_000);
    expect(transport.count('auth/token/renew-self')).toBe(2);
  });

  it('token auth whose renewal is refused becomes unhealthy with a reason a person can act on', async () => {
    const scheduler = new ManualScheduler();
    const log = memoryLogger();
    const transport = new ScriptedTransport().on('auth/token/lookup-self', { data: { ttl: 30, renewable: true } }).on('auth/token/renew-self', denied());
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 1_000, scheduler, transport, logger: log.logger });
    await scheduler.advance(20_000);
    const health = session.health();
    expect(health.healthy).toBe(false);
    expect(health.reason).toContain('can no longer be renewed');
    expect(health.reason).toContain('new token');
    expect(JSON.stringify([health, log.lines()])).not.toContain(token.reveal());
  });

  it('AppRole logs in again when a renewal fails, and when the TTL is capped at the max TTL', async () => {
    const scheduler = new ManualScheduler();
    const transport = new ScriptedTransport()
      .on('auth/approle/login', auth('s.firstfirstfirstfirstfirst', 9), auth('s.secondsecondsecondsecond', 9), auth('s.thirdthirdthirdthirdthird', 9))
      .on('auth/token/renew-self', refused(), auth('s.secondsecondsecondsecond', 3));
    const session = await openVaultSession({
      address: 'http://127.0.0.1:8200',
      auth: { method: 'approle', roleId: SecretString.of('role'), secretId: SecretString.of('secret-id-value') },
      timeoutMs: 1_000,
      renewRatio: 0.5,
      scheduler,
      transport,
    });
    await scheduler.advance(4_500); // renewal refused → login #2
    expect(session.health()).toMatchObject({ healthy: true, logins: 2 });
    await scheduler.advance(4_500); // renewal granted only 3 s of 9: capped
    expect(session.health()).toMatchObject({ renewals: 1, ttl_seconds_left: 3 });
    await scheduler.advance(1_500); // capped → login #3 instead of renewing
    expect(session.health()).toMatchObject({ healthy: true, logins: 3 });
    expect(transport.requests.filter((r) => r.path === 'auth/approle/login').every((r) => r.token === undefined)).toBe(true);
    session.close();
  });

  it('a transient failure is tried again while the token is valid, and the session recovers', async () => {
    const scheduler = new ManualScheduler();
    const transport = new ScriptedTransport().on('auth/token/lookup-self', { data: { ttl: 40, renewable: true } }).on('auth/token/renew-self', refused(), auth('s.againagainagainagainagain', 40));
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 1_000, renewRatio: 0.5, scheduler, transport });
    await scheduler.advance(20_000);
    expect(session.health()).toMatchObject({ healthy: true, renewals: 0 });
    expect(session.health().reason).toContain('renewal failed');
    await scheduler.advance(10_000);
    expect(session.health()).toMatchObject({ healthy: true, renewals: 1, reason: null });
    session.close();
  });

  it('a root token without TTL is never renewed and stays healthy', async () => {
    const scheduler = new ManualScheduler();
    const transport = new ScriptedTransport().on('auth/token/lookup-self', { data: { ttl: 0, renewable: false } });
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 1_000, scheduler, transport });
    await scheduler.advance(3_600_000);
    expect(session.health()).toMatchObject({ healthy: true, ttl_seconds_left: null, renewals: 0 });
    expect(scheduler.pending).toBe(0);
  });
});

describe('VaultSession calls', () => {
  const never: VaultTransport = { send: (r) => (r.path === 'auth/token/lookup-self' ? Promise.resolve({ data: { ttl: 0 } }) : new Promise(() => undefined)) };

  it('a call past its deadline is InfraTimeoutError (retryable)', async () => {
    const scheduler = new ManualScheduler();
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 1_000, scheduler, transport: never });
    const pending = rejection(session.call({ method: 'GET', path: 'secret/data/a' }, { operation: 'vault.get_secret' }));
    await scheduler.advance(1_000);
    expect(await pending).toMatchObject({ code: 'INFRA_TIMEOUT', retryable: true });
  });

  it('an aborted call is abandoned at once with the signal reason', async () => {
    const scheduler = new ManualScheduler();
    const session = await openVaultSession({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token }, timeoutMs: 60_000, scheduler, transport: never });
    const controller = new AbortController();
    const pending = rejection(session.call({ method: 'GET', path: 'secret/data/a' }, { signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'INFRA_TIMEOUT', retryable: true });
    session.close();
    expect((await rejection(session.call({ method: 'GET', path: 'secret/data/a' }))).code).toBe('SHUTTING_DOWN');
  });
});
