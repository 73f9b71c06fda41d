#!/usr/bin/env node
// Prepares Vault (tested on OpenBao, tooling/services/openbao.sh) for the production
// example, using a root or admin token the host itself never sees:
//
//   1. enables the AppRole auth method at approle/ (if it is not enabled yet);
//   2. writes policy onex-production-example: read the example's secrets, nothing else;
//   3. creates (or updates) AppRole role onex-production-example with that policy;
//   4. writes the database URL for the least-privileged role onex_app to
//      secret/data/onex/production/db (key url), once: an existing URL is kept;
//   5. prints `export` lines for VAULT_ADDR, VAULT_ROLE_ID and a fresh VAULT_SECRET_ID.
//
//   eval "$(node examples/production/setup-vault.mjs)"
//
// Safe to run again. Progress goes to stderr, so only the export lines reach `eval`.
// Environment: ONEX_OPENBAO_ADDR (default http://127.0.0.1:8200), ONEX_OPENBAO_TOKEN
// (default onex-dev-root-token, the dev server's root token), ONEX_PG_HOST_PORT (default
// 127.0.0.1:5432). No dependencies: plain fetch against Vault's HTTP API.
import { randomBytes } from 'node:crypto';

const addr = (process.env.ONEX_OPENBAO_ADDR || 'http://127.0.0.1:8200').replace(/\/+$/, '');
const rootToken = process.env.ONEX_OPENBAO_TOKEN || 'onex-dev-root-token';
const pgHostPort = process.env.ONEX_PG_HOST_PORT || '127.0.0.1:5432';

const APPROLE_MOUNT = 'approle';
const ROLE = 'onex-production-example';
const POLICY = 'onex-production-example';
// KV v2: the contract's references name the data path, secret/data/onex/production/<name>#<key>.
const DB_SECRET = 'secret/data/onex/production/db';
const POLICY_TEXT = `# onex-production-example: the runtime host reads its own secrets, nothing else.
path "secret/data/onex/production/*" {
  capabilities = ["read"]
}
`;

const log = (line) => process.stderr.write(`setup-vault: ${line}\n`);

async function vault(method, path, body) {
  let response;
  try {
    response = await fetch(`${addr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': rootToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new Error(`cannot reach Vault at ${addr} (${error.cause?.code ?? error.message}); start it with: bash tooling/services/openbao.sh`);
  }
  const text = await response.text();
  const json = text.length > 0 ? JSON.parse(text) : undefined;
  return { status: response.status, json };
}

async function expectOk(what, method, path, body) {
  const { status, json } = await vault(method, path, body);
  if (status >= 200 && status < 300) return json;
  const errors = Array.isArray(json?.errors) ? json.errors.join('; ') : `HTTP ${status}`;
  throw new Error(`${what} failed: ${errors}${status === 403 ? ' (is ONEX_OPENBAO_TOKEN a root or admin token?)' : ''}`);
}

const auths = await expectOk('listing auth methods', 'GET', 'sys/auth');
if (auths.data?.[`${APPROLE_MOUNT}/`] === undefined) {
  await expectOk('enabling AppRole', 'POST', `sys/auth/${APPROLE_MOUNT}`, { type: 'approle' });
  log(`enabled the AppRole auth method at ${APPROLE_MOUNT}/`);
} else {
  log(`AppRole already enabled at ${APPROLE_MOUNT}/`);
}

await expectOk('writing the policy', 'PUT', `sys/policies/acl/${POLICY}`, { policy: POLICY_TEXT });
log(`policy ${POLICY}: read secret/data/onex/production/*`);

// Tokens live an hour and are renewed by the host; at 4 h it logs in again with its secret_id.
await expectOk('writing the role', 'POST', `auth/${APPROLE_MOUNT}/role/${ROLE}`, {
  token_policies: [POLICY],
  token_ttl: '1h',
  token_max_ttl: '4h',
});
log(`AppRole role ${ROLE} (policy ${POLICY}, token ttl 1h, max 4h)`);

const existing = await vault('GET', DB_SECRET);
if (existing.status === 200 && typeof existing.json?.data?.data?.url === 'string') {
  log(`${DB_SECRET}: url already set, kept`);
} else {
  // PostgreSQL on this machine trusts loopback connections, so the password is not
  // checked; a real deployment sets it on the role (ALTER ROLE onex_app PASSWORD ...).
  const password = randomBytes(18).toString('base64url');
  const url = `postgres://onex_app:${password}@${pgHostPort}/onex_test`;
  await expectOk('writing the database secret', 'POST', DB_SECRET, { data: { url } });
  log(`${DB_SECRET}: wrote url (role onex_app, a fresh password)`);
}

const roleId = (await expectOk('reading the role id', 'GET', `auth/${APPROLE_MOUNT}/role/${ROLE}/role-id`)).data.role_id;
const secretId = (await expectOk('creating a secret id', 'POST', `auth/${APPROLE_MOUNT}/role/${ROLE}/secret-id`, {})).data.secret_id;
log('created a fresh secret_id; exporting VAULT_ADDR, VAULT_ROLE_ID, VAULT_SECRET_ID');

process.stdout.write(`export VAULT_ADDR=${addr}\nexport VAULT_ROLE_ID=${roleId}\nexport VAULT_SECRET_ID=${secretId}\n`);
