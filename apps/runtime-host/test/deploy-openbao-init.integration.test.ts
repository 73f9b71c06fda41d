/**
 * deploy/compose/openbao-init.sh against a real OpenBao, and the deploy contract logging
 * in with what it prepared: the part of deploy/compose.yaml that can run without a
 * container engine. On a PRIVATE dev server (port 18230; the shared one keeps the
 * production example's own role and database URL, which this script would overwrite),
 * started from the install tooling/services/openbao.sh made for the shared one:
 *
 * - the script runs twice (the second run changes nothing that matters and exits 0);
 * - `run --dry-run` of deploy/runtime-host.yaml (handlers/ and nodes/ beside it, as in the
 *   container) logs in with the role_id/secret_id compose gives the host and resolves the
 *   database URL the script wrote; a wrong secret_id is refused (exit 3).
 *
 * Skips loudly without the shared OpenBao; fails under CI=true.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { BIN, requireServer } from './helpers/kafka-binary-kit.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVICES = path.join(REPO, 'tooling/services/openbao.sh');
const INIT = path.join(REPO, 'deploy/compose/openbao-init.sh');
const PORT = 18230;
const ADDR = `http://127.0.0.1:${PORT}`;
const ROOT_TOKEN = 'onex-deploy-init-root-token';
const ROLE_ID = '3f1c2a9e-7d4b-4e55-9a61-0c2d8e4b7f10';
const SECRET_ID = '9b7e6d5c-4a3b-4c2d-8e1f-a0b1c2d3e4f5';
const DB_URL = 'postgres://onex_app:0123456789abcdef@postgres:5432/onex';

const available = await requireServer('OpenBao', '127.0.0.1', 8200, 'bash tooling/services/openbao.sh');

/** The `bao` CLI of the install openbao.sh made ($ONEX_CACHE_DIR/openbao/<version>/venv/bin). */
async function baoBinDir(): Promise<string> {
  const version = /^OPENBAO_VERSION=(\S+)/m.exec(await readFile(SERVICES, 'utf8'))?.[1];
  if (version === undefined) throw new Error('tooling/services/openbao.sh names no OPENBAO_VERSION');
  const cache = process.env.ONEX_CACHE_DIR ?? path.join(os.homedir(), '.cache/onex-services');
  return path.join(cache, 'openbao', version, 'venv/bin');
}

async function services(command: 'up' | 'down'): Promise<void> {
  await run('bash', [SERVICES, command], { env: { ...process.env, ONEX_OPENBAO_PORT: String(PORT), ONEX_OPENBAO_TOKEN: ROOT_TOKEN }, timeout: 120_000 });
}

interface Result {
  readonly code: number;
  readonly out: string;
}
async function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { env, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe.skipIf(!available)('deploy/compose/openbao-init.sh prepares the Vault the deploy contract logs in to', () => {
  let dir: string;
  let initEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    await services('up');
    dir = await mkdtemp(path.join(os.tmpdir(), 'onex-deploy-openbao-'));
    // The container's /etc/onex: the deploy contract, the example's handlers/ and nodes/.
    await cp(path.join(REPO, 'deploy/runtime-host.yaml'), path.join(dir, 'runtime-host.yaml'));
    for (const sub of ['handlers', 'nodes']) await cp(path.join(REPO, 'examples/production', sub), path.join(dir, sub), { recursive: true });
    // What compose.yaml gives openbao-init (with this server's address and token).
    initEnv = {
      PATH: `${await baoBinDir()}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: dir,
      BAO_ADDR: ADDR,
      BAO_TOKEN: ROOT_TOKEN,
      VAULT_ROLE_ID: ROLE_ID,
      VAULT_SECRET_ID: SECRET_ID,
      ONEX_DB_URL: DB_URL,
    };
  }, 180_000);
  afterAll(async () => {
    await services('down');
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs, and runs again without failing', async () => {
    const first = await exec('sh', [INIT], initEnv);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("registered the host's secret_id");
    const second = await exec('sh', [INIT], initEnv);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('AppRole already enabled');
    expect(second.out).toContain('secret_id already registered');
  });

  it('lets the deploy contract log in and resolve its database URL; a wrong secret_id is refused', async () => {
    // What compose.yaml gives the host; Kafka and Consul are not dialled by --dry-run.
    const hostEnv = (secretId: string): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      ENVIRONMENT: 'prod',
      LOG_LEVEL: 'warn',
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9',
      CONSUL_HTTP_ADDR: '127.0.0.1:9',
      VAULT_ADDR: ADDR,
      VAULT_ROLE_ID: ROLE_ID,
      VAULT_SECRET_ID: secretId,
      ONEX_INGRESS_TOKEN: 'deploy-init-ingress-token',
    });
    const ok = await exec(process.execPath, [BIN, 'run', path.join(dir, 'runtime-host.yaml'), '--dry-run'], hostEnv(SECRET_ID));
    expect(ok.code, ok.out).toBe(EXIT.OK);
    expect(ok.out).toContain('valid and wired');
    const refused = await exec(process.execPath, [BIN, 'run', path.join(dir, 'runtime-host.yaml'), '--dry-run'], hostEnv('00000000-0000-4000-8000-000000000000'));
    expect(refused.code, refused.out).toBe(EXIT.STARTUP_FAILED);
    expect(refused.out).toMatch(/AppRole login .* was refused/);
    // The secret the host may read is the one the script wrote (read with the host's own login).
    const login = (await (await fetch(`${ADDR}/v1/auth/approle/login`, { method: 'POST', body: JSON.stringify({ role_id: ROLE_ID, secret_id: SECRET_ID }) })).json()) as { auth: { client_token: string } };
    const secret = (await (await fetch(`${ADDR}/v1/secret/data/onex/production/db`, { headers: { 'X-Vault-Token': login.auth.client_token } })).json()) as { data: { data: { url: string } } };
    expect(secret.data.data.url).toBe(DB_URL);
  });
});
