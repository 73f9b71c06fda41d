/** The one Vault error map, for failures a healthy dev server cannot be made to produce. */
import { describe, expect, it } from 'vitest';
import { mapVaultError } from '../../src/vault/vault-errors.js';
import { vaultPathProblem } from '../../src/vault/vault-kv.js';

const context = { target: 'http://127.0.0.1:8200', path: 'secret/data/app/db', handlerType: 'vault', operation: 'vault.get_secret' };
const api = (statusCode: number, errors: string[] = []) => Object.assign(new Error(errors[0] ?? `Status ${statusCode}`), { response: { statusCode, body: { errors } } });
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8200`), { code });

describe('mapVaultError', () => {
  it.each([
    ['403 permission denied', api(403, ['permission denied']), 'INFRA_AUTHENTICATION_ERROR', false, 'permission_denied'],
    ['503 sealed', api(503, ['Vault is sealed']), 'INFRA_UNAVAILABLE', true, 'sealed'],
    ['400 mentioning sealed', api(400, ['core: vault is sealed']), 'INFRA_UNAVAILABLE', true, 'sealed'],
    ['500', api(500, ['internal error']), 'INFRA_UNAVAILABLE', true, 'unavailable'],
    ['502 without body', api(502), 'INFRA_UNAVAILABLE', true, 'unavailable'],
    ['429', api(429), 'INFRA_RATE_LIMITED', true, 'rate_limited'],
    ['400 cas mismatch', api(400, ['check-and-set parameter did not match the current version']), 'HANDLER_EXECUTION_ERROR', false, 'cas_mismatch'],
    ['400 other', api(400, ['invalid request']), 'HANDLER_EXECUTION_ERROR', false, 'bad_request'],
    ['connection refused', socket('ECONNREFUSED'), 'INFRA_UNAVAILABLE', true, 'connection_failed'],
    ['connection reset', socket('ECONNRESET'), 'INFRA_UNAVAILABLE', true, 'connection_failed'],
    ['axios timeout', socket('ECONNABORTED'), 'INFRA_TIMEOUT', true, 'timeout'],
    ['unknown failure', new Error('boom'), 'INFRA_CONNECTION_ERROR', true, 'connection_failed'],
  ])('%s', (_name, error, code, retryable, reason) => {
    const mapped = mapVaultError(error, context);
    expect(mapped).toMatchObject({ code, retryable, handlerType: 'vault', operation: 'vault.get_secret', details: { reason, transport_type: 'vault' } });
    expect(mapped.cause).toBeUndefined();
  });

  it('scrubs tokens and credentials Vault echoes in its messages', () => {
    const mapped = mapVaultError(api(400, ['bad token hvs.CAESIJabcdefghijklmnopqrstuvwxyz012345 for https://user:pw@vault:8200']), context);
    expect(mapped.message).not.toContain('hvs.CAESIJ');
    expect(mapped.message).not.toContain('user:pw');
  });
});

describe('vaultPathProblem', () => {
  it.each(['app/db', 'a', 'team-1/svc_2/key.v1', 'x/y@z=w+v,u:t~s'])('accepts %s', (path) => {
    expect(vaultPathProblem(path)).toBeUndefined();
  });
  it.each([
    ['', 'empty'],
    ['/app/db', 'start with "/"'],
    ['app/db/', 'end with "/"'],
    ['app//db', 'empty segments'],
    ['app/../sys/seal', '".."'],
    ['./app', '"."'],
    ['app/db?version=1', 'letters, digits'],
    ['app/db#x', 'letters, digits'],
    ['app/%2e%2e', 'letters, digits'],
    ['app/d b', 'letters, digits'],
    ['app/\u0000db', 'control characters'],
    ['app/db\n', 'control characters'],
    ['a'.repeat(600), 'at most'],
  ])('refuses %j (%s)', (path, message) => {
    expect(vaultPathProblem(path)).toContain(message);
  });
});
