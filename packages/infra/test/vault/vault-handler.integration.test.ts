/**
 * The vault handler against the real OpenBao 2.7.2 dev server: every operation, allowed
 * paths and read_only grants, AppRole login with renewal and re-login after the token's
 * max TTL, a path the policy denies, and no secret in logs, describe or health.
 */
import { SecretString } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultHandler, type VaultHandlerConfig } from '../../src/handlers/vault/index.js';
import { memoryLogger, rejection } from '../handlers/db/db-test-kit.js';
import { OPENBAO_ADDR, OPENBAO_TOKEN, openbaoServerAvailable } from '../helpers/require-server.js';
import { bao, sendTo, setUpAppRole, waitFor } from './vault-kit.js';

const available = await openbaoServerAvailable();
const RUN = `onex-it-${process.pid}-${Date.now().toString(36)}`;
const P = `${RUN}/app`;
const DENIED = `${RUN}/denied`;
const APPROLE_MOUNT = `approle-${RUN}`;
const SECRET_VALUE = 'pa55-Wörd-never-logged-7f3a';

describe.skipIf(!available)('vault handler on real OpenBao', () => {
  const handlers: VaultHandler[] = [];
  const log = memoryLogger();
  let approle: { roleId: string; secretId: string };

  async function open(auth: VaultHandlerConfig['auth'], allowedPaths: string[]): Promise<VaultHandler> {
    const handler = new VaultHandler({ logger: log.logger });
    handlers.push(handler);
    await handler.initialize({ address: OPENBAO_ADDR, allowedPaths, auth, timeoutMs: 5_000 });
    return handler;
  }
  const rootAuth = (): VaultHandlerConfig['auth'] => ({ method: 'token', token: SecretString.of(OPENBAO_TOKEN) });

  beforeAll(async () => {
    approle = await setUpAppRole(OPENBAO_ADDR, OPENBAO_TOKEN, {
      mount: APPROLE_MOUNT,
      role: 'app',
      policyName: `policy-${RUN}`,
      policy: `path "secret/data/${P}/*" { capabilities = ["create", "read", "update", "delete"] }\npath "secret/metadata/${P}/*" { capabilities = ["list", "read", "delete"] }\npath "secret/metadata/${P}" { capabilities = ["list"] }`,
      // Short, so the test sees renewals happen, and a max TTL, so it sees a re-login.
      tokenTtl: '4s',
      tokenMaxTtl: '9s',
    });
  });

  afterAll(async () => {
    for (const handler of handlers) await handler.shutdown();
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `secret/metadata/${P}/db`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `secret/metadata/${P}/cas`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `secret/metadata/${DENIED}/x`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `sys/auth/${APPROLE_MOUNT}`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `sys/policies/acl/policy-${RUN}`);
  });

  it('sets, gets (latest and by version), lists and deletes secrets', async () => {
    const handler = await open(rootAuth(), [`${RUN}/**`, P]);
    const v1 = (await sendTo(handler, 'vault.set_secret', { path: `${P}/db`, data: { password: 'first', port: 5432 } })) as { version: number; created_time: string };
    expect(v1.version).toBe(1);
    expect(typeof v1.created_time).toBe('string');
    const v2 = await sendTo(handler, 'vault.set_secret', { path: `${P}/db`, data: { password: SECRET_VALUE } });
    expect(v2).toMatchObject({ version: 2 });

    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db` })).toMatchObject({ found: true, data: { password: SECRET_VALUE }, version: 2 });
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db`, version: 1 })).toMatchObject({ found: true, data: { password: 'first', port: 5432 }, version: 1 });
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/nothing-here` })).toEqual({ found: false });

    expect(await sendTo(handler, 'vault.list_secrets', { path: P })).toEqual({ keys: ['db'] });
    expect(await sendTo(handler, 'vault.list_secrets', { path: `${P}/no-such-folder` })).toEqual({ keys: [] });

    expect(await sendTo(handler, 'vault.delete_secret', { path: `${P}/db` })).toEqual({ deleted: true, path: `${P}/db`, all_versions: false });
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db` })).toEqual({ found: false });
    // A soft delete keeps older versions readable.
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db`, version: 1 })).toMatchObject({ found: true, version: 1 });
    await sendTo(handler, 'vault.delete_secret', { path: `${P}/db`, all_versions: true });
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db`, version: 1 })).toEqual({ found: false });
    expect(await sendTo(handler, 'vault.list_secrets', { path: P })).toEqual({ keys: [] });
  });

  it('check-and-set: creates only when absent, refuses a stale version with cas_mismatch', async () => {
    const handler = await open(rootAuth(), [`${P}/*`]);
    expect(await sendTo(handler, 'vault.set_secret', { path: `${P}/cas`, data: { a: 1 }, cas: 0 })).toMatchObject({ version: 1 });
    const stale = await rejection(sendTo(handler, 'vault.set_secret', { path: `${P}/cas`, data: { a: 2 }, cas: 0 }));
    expect(stale).toMatchObject({ code: 'HANDLER_EXECUTION_ERROR', retryable: false, details: { reason: 'cas_mismatch' } });
    expect(await sendTo(handler, 'vault.set_secret', { path: `${P}/cas`, data: { a: 2 }, cas: 1 })).toMatchObject({ version: 2 });
  });

  it('confines every operation to allowed_paths and needs read_write to write', async () => {
    const handler = await open(rootAuth(), [`${P}/*`]);
    const outside = await rejection(sendTo(handler, 'vault.get_secret', { path: `${RUN}/other/x` }));
    expect(outside).toMatchObject({ code: 'INVALID_OPERATION', details: { reason: 'path_not_allowed' } });
    // `*` stays inside one segment.
    expect((await rejection(sendTo(handler, 'vault.get_secret', { path: `${P}/a/b` }))).code).toBe('INVALID_OPERATION');
    const readOnly = await rejection(sendTo(handler, 'vault.set_secret', { path: `${P}/ro`, data: { a: 1 } }, { access: 'read_only', nodeSlug: 'reader' }));
    expect(readOnly).toMatchObject({ code: 'INVALID_OPERATION', details: { reason: 'read_only_access' } });
    expect((await rejection(sendTo(handler, 'vault.delete_secret', { path: `${P}/ro` }, { access: 'read_only' }))).code).toBe('INVALID_OPERATION');
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/ro` }, { access: 'read_only' })).toEqual({ found: false });
    for (const path of [`${P}/../../x`, `/${P}/x`, `${P}//x`, `${P}/x?version=1`, `${P}/x\n`]) {
      expect((await rejection(sendTo(handler, 'vault.get_secret', { path }))).code).toBe('ENVELOPE_VALIDATION_ERROR');
    }
    const none = await open(rootAuth(), []);
    expect((await rejection(sendTo(none, 'vault.list_secrets', { path: P }))).code).toBe('INVALID_OPERATION');
  });

  it('logs in with AppRole, renews the short-lived token, logs in again after its max TTL, and keeps working', async () => {
    const handler = await open({ method: 'approle', roleId: SecretString.of(approle.roleId), secretId: SecretString.of(approle.secretId), mountPoint: APPROLE_MOUNT }, [`${P}/*`]);
    expect(await handler.healthCheck()).toMatchObject({ healthy: true, auth_method: 'approle', renewable: true, logins: 1 });
    await sendTo(handler, 'vault.set_secret', { path: `${P}/db`, data: { password: SECRET_VALUE } });
    await waitFor('a token renewal', async () => ((await handler.healthCheck()).renewals as number) >= 1);
    await waitFor('a re-login after the max TTL', async () => ((await handler.healthCheck()).logins as number) >= 2, 30_000);
    expect(await sendTo(handler, 'vault.get_secret', { path: `${P}/db` })).toMatchObject({ found: true, data: { password: SECRET_VALUE } });
    expect(await handler.healthCheck()).toMatchObject({ healthy: true });
    const renewed = (await sendTo(handler, 'vault.renew_token', {})) as { ttl_seconds: number; renewable: boolean };
    expect(renewed.ttl_seconds).toBeGreaterThan(0);
    expect(Object.keys(renewed).sort()).toEqual(['renewable', 'ttl_seconds']);
  }, 60_000);

  it('a path the policy denies is InfraAuthenticationError, not retryable', async () => {
    const handler = await open({ method: 'approle', roleId: SecretString.of(approle.roleId), secretId: SecretString.of(approle.secretId), mountPoint: APPROLE_MOUNT }, [`${RUN}/**`]);
    const denied = await rejection(sendTo(handler, 'vault.get_secret', { path: `${DENIED}/x` }));
    expect(denied).toMatchObject({ code: 'INFRA_AUTHENTICATION_ERROR', retryable: false, details: { reason: 'permission_denied', status_code: 403 } });
  });

  it('refuses a bad secret_id at initialize with InfraAuthenticationError', async () => {
    const handler = new VaultHandler();
    const error = await rejection(
      handler.initialize({ address: OPENBAO_ADDR, allowedPaths: [], auth: { method: 'approle', roleId: SecretString.of(approle.roleId), secretId: SecretString.of('not-the-secret-id'), mountPoint: APPROLE_MOUNT } }),
    );
    expect(error).toMatchObject({ code: 'INFRA_AUTHENTICATION_ERROR', retryable: false });
    expect(handler.state).toBe('failed');
  });

  it('never puts a secret value, token or secret_id in logs, describe or health', async () => {
    const handler = handlers[0] ?? (await open(rootAuth(), [`${P}/*`]));
    const visible = JSON.stringify([log.lines(), handler.describe(), await handler.healthCheck(), ...(await Promise.all(handlers.map((h) => h.healthCheck())))]);
    expect(log.lines().length).toBeGreaterThan(0);
    for (const secret of [SECRET_VALUE, OPENBAO_TOKEN, approle.secretId]) expect(visible).not.toContain(secret);
  });
});
