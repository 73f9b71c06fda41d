/**
 * The SecretResolver over fake, env and real-file sources on a manual clock: priority
 * order, cache TTL, lease refresh ahead of expiry, coalescing, errors that name the
 * secret and the sources but never a value, and scoped views.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InfraUnavailableError, SecretResolutionError } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvSecretSource, envVarNameOf } from '../../src/secrets/env-secret-source.js';
import { FileSecretSource } from '../../src/secrets/file-secret-source.js';
import { SecretResolver } from '../../src/secrets/secret-resolver.js';
import { ManualScheduler, flush } from '../kafka/manual-scheduler.js';
import { FakeSecretSource } from './fake-secret-source.js';

const dirs: string[] = [];
const resolvers: SecretResolver[] = [];
afterEach(async () => {
  for (const r of resolvers.splice(0)) r.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function secretsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-resolver-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), `${text}\n`);
  }
  return dir;
}

function resolverOf(options: ConstructorParameters<typeof SecretResolver>[0]): SecretResolver {
  const resolver = new SecretResolver(options);
  resolvers.push(resolver);
  return resolver;
}

async function failure(promise: Promise<unknown>): Promise<SecretResolutionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretResolutionError);
  return error as SecretResolutionError;
}

describe('EnvSecretSource', () => {
  it('maps logical names to variables, with explicit names, a prefix, and blank meaning unset', async () => {
    expect(envVarNameOf('db/password')).toBe('DB_PASSWORD');
    expect(envVarNameOf('kafka/sasl.user-name', 'ONEX_SECRET_')).toBe('ONEX_SECRET_KAFKA_SASL_USER_NAME');
    const env = { DB_PASSWORD: 'from-env', PGPASSWORD: 'pg-native', BLANK: '', ONEX_SECRET_API_KEY: 'prefixed' };
    expect(await new EnvSecretSource({ env }).lookup('db/password')).toEqual({ value: 'from-env' });
    expect(await new EnvSecretSource({ env, names: { 'db/password': 'PGPASSWORD' } }).lookup('db/password')).toEqual({ value: 'pg-native' });
    expect(await new EnvSecretSource({ env }).lookup('blank')).toBeUndefined();
    const prefixed = new EnvSecretSource({ env, prefix: 'ONEX_SECRET_' });
    expect(await prefixed.lookup('api/key')).toEqual({ value: 'prefixed' });
    expect(prefixed.locate('api/key')).toBe('environment variable ONEX_SECRET_API_KEY');
    // env://NAME names the variable exactly: no mapping, no prefix.
    expect(await prefixed.references.lookup('DB_PASSWORD')).toEqual({ value: 'from-env' });
  });
});

describe('SecretResolver', () => {
  it('asks sources in priority order and takes the first that holds the name', async () => {
    const vault = new FakeSecretSource('vault', { 'db/password': 'from-vault' });
    const dir = await secretsDir({ 'db/password': 'from-file', 'tls/key': 'key-from-file', 'api/key': 'api-from-file' });
    const resolver = resolverOf({
      sources: [vault, new EnvSecretSource({ env: { DB_PASSWORD: 'from-env', API_KEY: 'api-from-env' } }), new FileSecretSource({ dir })],
      scheduler: new ManualScheduler(),
    });
    expect(resolver.sourceNames).toEqual(['vault', 'env', 'file']);
    expect(await resolver.getSecret('db/password')).toBe('from-vault');
    expect(await resolver.getSecret('api/key')).toBe('api-from-env');
    expect(await resolver.getSecret('tls/key')).toBe('key-from-file');
    expect(await resolver.getSecrets(['db/password', 'tls/key', 'db/password'])).toEqual({ 'db/password': 'from-vault', 'tls/key': 'key-from-file' });
  });

  it('serves cached values for the TTL on the injected clock, then looks again', async () => {
    const clock = new ManualScheduler();
    const source = new FakeSecretSource('vault', { 'db/password': 'v1' });
    const resolver = resolverOf({ sources: [source], scheduler: clock, ttlMs: 60_000 });
    expect(await resolver.getSecret('db/password')).toBe('v1');
    source.values.set('db/password', 'v2');
    await clock.advance(59_999);
    expect(await resolver.getSecret('db/password')).toBe('v1');
    expect(source.lookups).toHaveLength(1);
    await clock.advance(1);
    expect(await resolver.getSecret('db/password')).toBe('v2');
    expect(source.lookups).toHaveLength(2);
  });

  it('does not cache when the TTL is 0', async () => {
    const source = new FakeSecretSource('vault', { a: 'x' });
    const resolver = resolverOf({ sources: [source], scheduler: new ManualScheduler(), ttlMs: 0 });
    await resolver.getSecret('a');
    await resolver.getSecret('a');
    expect(source.lookups).toEqual(['a', 'a']);
  });

  it('refreshes a leased value before its lease ends, without a caller waiting', async () => {
    const clock = new ManualScheduler();
    const source = new FakeSecretSource('vault', { 'db/password': 'lease-1' });
    source.leaseMs = 30_000;
    const resolver = resolverOf({ sources: [source], scheduler: clock });
    expect(await resolver.getSecret('db/password')).toBe('lease-1');
    source.values.set('db/password', 'lease-2');
    await clock.advance(19_999);
    expect(source.lookups).toHaveLength(1);
    await clock.advance(1); // 2/3 of the lease
    expect(source.lookups).toHaveLength(2);
    expect(await resolver.getSecret('db/password')).toBe('lease-2');
    expect(source.lookups).toHaveLength(2);
    // And again on the new lease, for as long as the resolver is open.
    await clock.advance(20_000);
    expect(source.lookups).toHaveLength(3);
    resolver.close();
    expect(clock.pending).toBe(0);
  });

  it('keeps serving a leased value while refreshes fail, and not past the end of its lease', async () => {
    const clock = new ManualScheduler();
    const source = new FakeSecretSource('vault', { 'db/password': 'lease-1' });
    source.leaseMs = 30_000;
    const resolver = resolverOf({ sources: [source], scheduler: clock });
    await resolver.getSecret('db/password');
    source.failWith = new InfraUnavailableError('Vault at 127.0.0.1:8200 is sealed', { transportType: 'vault' });
    await clock.advance(20_000); // refresh fails; retried halfway to the lease end
    expect(await resolver.getSecret('db/password')).toBe('lease-1');
    await clock.advance(5_000);
    expect(source.lookups).toHaveLength(3);
    expect(await resolver.getSecret('db/password')).toBe('lease-1');
    await clock.advance(5_000); // the lease is over
    const error = await failure(resolver.getSecret('db/password'));
    expect(error.retryable).toBe(true);
    expect(error.message).not.toContain('lease-1');
  });

  it('coalesces concurrent lookups of one name into one source call', async () => {
    const source = new FakeSecretSource('vault', { 'db/password': 'shared', other: 'o' });
    source.hold();
    const resolver = resolverOf({ sources: [source], scheduler: new ManualScheduler() });
    const pending = [resolver.getSecret('db/password'), resolver.getSecret('db/password'), resolver.getSecrets(['db/password', 'other'])];
    await flush();
    expect(source.lookups).toEqual(['db/password', 'other']);
    source.release();
    expect(await Promise.all(pending)).toEqual(['shared', 'shared', { 'db/password': 'shared', other: 'o' }]);
    expect(source.lookups).toEqual(['db/password', 'other']);
  });

  it('fails with the name and the sources tried, and how to provide it, never a value', async () => {
    const dir = await secretsDir({ 'db/password': 'file-value' });
    const env = new EnvSecretSource({ env: { DB_PASSWORD: 'env-value' } });
    const resolver = resolverOf({ sources: [env, new FileSecretSource({ dir })], scheduler: new ManualScheduler() });
    await resolver.getSecret('db/password');
    const error = await failure(resolver.getSecret('kafka/sasl.password'));
    expect(error.code).toBe('SECRET_RESOLUTION_ERROR');
    expect(error.message).toBe('Secret "kafka/sasl.password" was not found in any source (tried env, file)');
    expect(error.hint).toBe(`Provide it as environment variable KAFKA_SASL_PASSWORD or file ${path.join(dir, 'kafka/sasl.password')}.`);
    expect(error.details).toEqual({ logical_name: 'kafka/sasl.password', sources_tried: ['env', 'file'], reason: 'not_found' });
    const wire = JSON.stringify(error.toEnvelopeError());
    expect(wire).not.toContain('env-value');
    expect(wire).not.toContain('file-value');
  });

  it('names every missing secret at once from getSecrets', async () => {
    const resolver = resolverOf({ sources: [new FakeSecretSource('env', { a: 'value-a' })], scheduler: new ManualScheduler() });
    const error = await failure(resolver.getSecrets(['a', 'b', 'c']));
    expect(error.message).toBe('2 secrets could not be resolved: "b", "c" (tried env)');
    expect(error.details).toMatchObject({ logical_names: ['b', 'c'], sources_tried: ['env'] });
    expect(error.message).not.toContain('value-a');
  });

  it('stops at a failing source instead of falling through to a lower-priority value', async () => {
    const vault = new FakeSecretSource('vault', {});
    vault.failWith = new InfraUnavailableError('Vault at 127.0.0.1:8200 is unreachable', { transportType: 'vault' });
    const env = new FakeSecretSource('env', { 'db/password': 'stale-env-value' });
    const resolver = resolverOf({ sources: [vault, env], scheduler: new ManualScheduler() });
    const error = await failure(resolver.getSecret('db/password'));
    expect(env.lookups).toEqual([]);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('Secret "db/password" could not be resolved: source vault failed (tried vault): Vault at 127.0.0.1:8200 is unreachable');
    expect(error.details).toMatchObject({ logical_name: 'db/password', source: 'vault', sources_tried: ['vault'], reason: 'source_failed' });
    expect(error.cause).toBe(vault.failWith);
  });

  it('does not quote the raw message of a foreign error, which might carry a value', async () => {
    const source = new FakeSecretSource('custom', {});
    source.failWith = new Error('bad response body: hunter2');
    const resolver = resolverOf({ sources: [source], scheduler: new ManualScheduler() });
    const error = await failure(resolver.getSecret('db/password'));
    expect(error.message).not.toContain('hunter2');
    expect(error.retryable).toBe(false);
  });

  it('refuses invalid names without echoing them or asking any source', async () => {
    const source = new FakeSecretSource('env', {});
    const resolver = resolverOf({ sources: [source], scheduler: new ManualScheduler() });
    for (const name of ['', '../etc/passwd', '/etc/passwd', 'a//b', 'db/', 'p@ss w0rd!']) {
      const error = await failure(resolver.getSecret(name));
      expect(error.details.reason).toBe('invalid_name');
      if (name !== '') expect(error.message).not.toContain(name);
    }
    expect(source.lookups).toEqual([]);
  });

  it('resolves env:// references exactly and says when no source answers a scheme', async () => {
    const resolver = resolverOf({ sources: [new EnvSecretSource({ env: { PG_URL: 'postgres://h/db' }, prefix: 'ONEX_' })], scheduler: new ManualScheduler() });
    expect(resolver.schemes).toEqual(['env']);
    expect(await resolver.resolve({ secretRef: 'env://PG_URL' })).toBe('postgres://h/db');
    const missing = await failure(resolver.resolve({ secretRef: 'env://PG_MISSING' }));
    expect(missing.message).toBe('Secret reference env://PG_MISSING was not found (tried env)');
    expect(missing.hint).toBe('Set the environment variable PG_MISSING.');
    const vault = await failure(resolver.resolve({ secretRef: 'vault://secret/data/db#password' }));
    expect(vault.details).toMatchObject({ reason: 'no_source_for_scheme', sources_tried: ['env'] });
    const invalid = await failure(resolver.resolve({ secretRef: 'hunter2-pasted-here' }));
    expect(invalid.message).not.toContain('hunter2');
  });

  it('rejects bad options with a typed error', () => {
    expect(() => new SecretResolver({ sources: [] })).toThrow(SecretResolutionError);
    expect(() => new SecretResolver({ sources: [new FakeSecretSource('env'), new FakeSecretSource('env')] })).toThrow(/unique/);
    expect(() => new SecretResolver({ sources: [new FakeSecretSource('env')], ttlMs: -1 })).toThrow(SecretResolutionError);
  });
});

describe('SecretResolver.forScope', () => {
  it('refuses names and references outside the glob scopes before asking any source', async () => {
    const source = new FakeSecretSource('vault', { 'db/password': 'p', 'db/replica/password': 'r', 'kafka/password': 'k' });
    const env = new EnvSecretSource({ env: { PG_URL: 'postgres://h/db', DB_URL: 'postgres://other/db' } });
    const resolver = resolverOf({ sources: [source, env], scheduler: new ManualScheduler() });

    const scoped = resolver.forScope(['db/*', 'env://PG_*']);
    expect(await scoped.getSecret('db/password')).toBe('p');
    expect(await scoped.resolve({ secretRef: 'env://PG_URL' })).toBe('postgres://h/db');
    source.lookups.length = 0;

    const outside = await failure(scoped.getSecret('kafka/password'));
    expect(outside.message).toBe('Secret "kafka/password" is outside the secret scopes of this resolver (db/*, env://PG_*); refused');
    expect(outside.details).toEqual({ logical_name: 'kafka/password', scopes: ['db/*', 'env://PG_*'], reason: 'out_of_scope' });
    // `*` stays inside one segment.
    expect((await failure(scoped.getSecret('db/replica/password'))).details.reason).toBe('out_of_scope');
    expect((await failure(scoped.resolve({ secretRef: 'env://DB_URL' }))).details.reason).toBe('out_of_scope');
    // One name out of scope refuses the whole batch, and nothing is read.
    expect((await failure(scoped.getSecrets(['db/password', 'kafka/password']))).details.reason).toBe('out_of_scope');
    expect(source.lookups).toEqual([]);

    expect(await resolver.forScope(['db/**']).getSecret('db/replica/password')).toBe('r');
    expect((await failure(resolver.forScope([]).getSecret('db/password'))).message).toContain('(none)');
  });
});
