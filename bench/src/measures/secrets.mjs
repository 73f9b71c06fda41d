/**
 * Measure 4 for the vault and consul handlers, and the secret resolver (issue 8): what
 * each adds on top of the driver it wraps, against the real OpenBao and Consul servers.
 *
 * - `vault`: `VaultHandler` `vault.get_secret` against raw node-vault `read` of the same
 *   KV v2 data path with the same token (both sides node-vault, so the difference is the
 *   handler's own work), concurrency 1 and 8.
 * - `consul`: `ConsulHandler` `consul.kv_get` against the raw `consul` package `kv.get`
 *   of the same key, concurrency 1 and 8.
 * - `secrets` (information: the host resolves secrets at start, not per envelope):
 *   `SecretResolver.getSecret` on a cache hit against a bare function reading a Map; and
 *   the cold path, `getSecret` through a `VaultSecretSource` with `ttlMs: 0` (every call
 *   reads Vault) against a raw node-vault read picking the same key. Concurrency 1 only:
 *   the resolver coalesces concurrent lookups of one name, so at 8 it would make fewer
 *   Vault reads than the baseline.
 *
 * Servers: `ONEX_OPENBAO_ADDR` (default http://127.0.0.1:8200) with `ONEX_OPENBAO_TOKEN`
 * (default the dev root token), `CONSUL_HTTP_ADDR` (default 127.0.0.1:8500). The fixtures
 * (`secret/data/onex-bench/vault`, KV key `onex-bench/kv/greeting`) are written once per
 * run; without a server the rows say `skipped: … not reachable`.
 */
import { randomUUID } from 'node:crypto';
import { SecretString, createInvocationContext, createRequestEnvelope } from '@onex/core';
import { createEnvSecretSource, createSecretResolver, createVaultSecretSource } from '@onex/infra';
import { ConsulHandler } from '@onex/infra/handlers/consul';
import { VaultHandler } from '@onex/infra/handlers/vault';
import Consul from 'consul';
import nodeVault from 'node-vault';
import { measureAll } from '../lib/drive.mjs';
import { latency, ops, percent } from '../lib/table.mjs';
import { overheadRow } from './handlers.mjs';

export const OPENBAO_ADDR = (process.env.ONEX_OPENBAO_ADDR ?? 'http://127.0.0.1:8200').replace(/\/$/, '');
const OPENBAO_TOKEN = process.env.ONEX_OPENBAO_TOKEN ?? 'onex-dev-root-token';
export const CONSUL_ADDR = process.env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500';

const MOUNT = 'secret';
/** Inside the mount; the handler's allowed_paths is `onex-bench/*`. */
const VAULT_PATH = 'onex-bench/vault';
const VAULT_DATA_PATH = `${MOUNT}/data/${VAULT_PATH}`;
/** A small secret, like a database credential. */
const VAULT_SECRET = { username: 'onex-bench', password: 'bench-password-value' };
const KV_PREFIX = 'onex-bench/';
const KV_KEY = `${KV_PREFIX}kv/greeting`;
const KV_VALUE = 'hello from the onex bench';
const TIMEOUT_MS = 10_000;

/** `host:port` of an address with or without a scheme, for the machine line and errors. @param {string} address */
function hostPort(address) {
  return address.replace(/^https?:\/\//, '').replace(/\/$/, '');
}
export const openbaoTarget = () => hostPort(OPENBAO_ADDR);
export const consulTarget = () => hostPort(CONSUL_ADDR);

/** Why `url` does not answer (undefined when it does). @param {string} url @returns {Promise<string | undefined>} */
async function unreachable(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return undefined;
  } catch (error) {
    const cause = /** @type {{ cause?: { code?: string } }} */ (error).cause;
    return cause?.code ?? (error instanceof Error ? error.name : 'connection failed');
  }
}

/**
 * Row of a measure that could not run.
 * @param {string} measure @param {string} conc @param {string} subject @param {string} baseline @param {string} verdict
 * @returns {import('../lib/table.mjs').Row}
 */
function skippedRow(measure, conc, subject, baseline, verdict) {
  return { measure, conc, subject, subjectValue: '–', subjectLatency: '–', baseline, baselineValue: '–', baselineLatency: '–', ratio: '–', target: '≤ +10 %', verdict };
}

/** A raw node-vault client, as an application without ONEX would make one. */
function rawVaultClient() {
  return nodeVault({ apiVersion: 'v1', endpoint: OPENBAO_ADDR, token: OPENBAO_TOKEN });
}

const VAULT_MEASURE = '4 vault handler overhead';
const VAULT_SUBJECT = 'VaultHandler vault.get_secret';
const VAULT_BASELINE = "raw node-vault read('secret/data/…')";

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function vaultMeasures(options) {
  const why = await unreachable(`${OPENBAO_ADDR}/v1/sys/health`);
  if (why !== undefined) return [skippedRow(VAULT_MEASURE, '1, 8', VAULT_SUBJECT, VAULT_BASELINE, `skipped: OpenBao not reachable on ${openbaoTarget()} (${why})`)];
  const raw = rawVaultClient();
  await raw.write(VAULT_DATA_PATH, { data: VAULT_SECRET });
  const handler = new VaultHandler();
  try {
    await handler.initialize({ address: OPENBAO_ADDR, mount: MOUNT, allowedPaths: ['onex-bench/*'], auth: { method: 'token', token: SecretString.of(OPENBAO_TOKEN) }, timeoutMs: TIMEOUT_MS });
    const envelope = createRequestEnvelope({ operation: 'vault.get_secret', correlationId: randomUUID(), payload: { path: VAULT_PATH } });
    const probe = /** @type {{ found: boolean, data?: Record<string, unknown> }} */ (await handler.execute(envelope, createInvocationContext(envelope)));
    if (!probe.found || probe.data?.password !== VAULT_SECRET.password) throw new Error(`unexpected vault.get_secret result (found: ${probe.found})`);
    /** @type {import('../lib/table.mjs').Row[]} */
    const rows = [];
    for (const concurrency of [1, 8]) {
      const r = await measureAll(
        {
          handler: () => handler.execute(envelope, createInvocationContext(envelope)),
          raw: () => raw.read(VAULT_DATA_PATH),
        },
        { concurrency, ...options },
      );
      rows.push(overheadRow(VAULT_MEASURE, VAULT_SUBJECT, VAULT_BASELINE, concurrency, r.handler, r.raw));
    }
    return rows;
  } finally {
    await handler.shutdown();
  }
}

const CONSUL_MEASURE = '4 consul handler overhead';
const CONSUL_SUBJECT = 'ConsulHandler consul.kv_get';
const CONSUL_BASELINE = 'raw consul kv.get';

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function consulMeasures(options) {
  const base = /^https?:\/\//.test(CONSUL_ADDR) ? CONSUL_ADDR.replace(/\/$/, '') : `http://${CONSUL_ADDR}`;
  const why = await unreachable(`${base}/v1/status/leader`);
  if (why !== undefined) return [skippedRow(CONSUL_MEASURE, '1, 8', CONSUL_SUBJECT, CONSUL_BASELINE, `skipped: Consul not reachable on ${consulTarget()} (${why})`)];
  const url = new URL(base);
  const raw = new Consul({ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), secure: url.protocol === 'https:' });
  await raw.kv.set(KV_KEY, KV_VALUE);
  const handler = new ConsulHandler();
  try {
    await handler.initialize({ address: base, kvPrefixes: [KV_PREFIX], timeoutMs: TIMEOUT_MS });
    const envelope = createRequestEnvelope({ operation: 'consul.kv_get', correlationId: randomUUID(), payload: { key: KV_KEY } });
    const probe = /** @type {{ found: boolean, value: string | null }} */ (await handler.execute(envelope, createInvocationContext(envelope)));
    if (!probe.found || probe.value !== KV_VALUE) throw new Error(`unexpected consul.kv_get result ${JSON.stringify(probe)}`);
    /** @type {import('../lib/table.mjs').Row[]} */
    const rows = [];
    for (const concurrency of [1, 8]) {
      const r = await measureAll(
        {
          handler: () => handler.execute(envelope, createInvocationContext(envelope)),
          raw: () => raw.kv.get(KV_KEY),
        },
        { concurrency, ...options },
      );
      rows.push(overheadRow(CONSUL_MEASURE, CONSUL_SUBJECT, CONSUL_BASELINE, concurrency, r.handler, r.raw));
    }
    return rows;
  } finally {
    await handler.shutdown();
    raw.destroy();
  }
}

/**
 * An information row: the overhead in time per call (raw ops/s ÷ subject ops/s − 1), no verdict.
 * @param {string} measure @param {string} subject @param {string} baseline
 * @param {import('../lib/drive.mjs').RunResult} s @param {import('../lib/drive.mjs').RunResult} b
 * @returns {import('../lib/table.mjs').Row}
 */
function infoRow(measure, subject, baseline, s, b) {
  return { measure, conc: '1', subject, subjectValue: ops(s.opsPerSec), subjectLatency: latency(s), baseline, baselineValue: ops(b.opsPerSec), baselineLatency: latency(b), ratio: percent(b.opsPerSec / s.opsPerSec - 1), target: '–', verdict: '–' };
}

const SECRETS_MEASURE = '4 secret resolver (info)';

/** @param {{ reps: number, budgetMs: number, warmupMs: number }} options @returns {Promise<import('../lib/table.mjs').Row[]>} */
export async function secretResolverMeasures(options) {
  /** @type {import('../lib/table.mjs').Row[]} */
  const rows = [];
  // Cache hit: the source is read once (the probe), then every call is served from the cache.
  const name = 'bench/db/password';
  const value = VAULT_SECRET.password;
  const resolver = createSecretResolver({ sources: [createEnvSecretSource({ env: { BENCH_DB_PASSWORD: value } })] });
  try {
    if ((await resolver.getSecret(name)) !== value) throw new Error('unexpected SecretResolver.getSecret result');
    const map = new Map([[name, value]]);
    const bare = async (/** @type {string} */ key) => map.get(key);
    // ~1 µs per call: per-call timestamps would distort it, so the mean is reported.
    const r = await measureAll({ resolver: () => resolver.getSecret(name), bare: () => bare(name) }, { concurrency: 1, ...options, latency: false });
    rows.push(infoRow(SECRETS_MEASURE, 'SecretResolver.getSecret, cache hit (env source)', 'bare async function, Map.get', r.resolver, r.bare));
  } finally {
    resolver.close();
  }

  const coldSubject = 'SecretResolver.getSecret → VaultSecretSource, ttlMs 0';
  const coldBaseline = 'raw node-vault read + pick the key';
  const why = await unreachable(`${OPENBAO_ADDR}/v1/sys/health`);
  if (why !== undefined) {
    rows.push({ ...skippedRow(SECRETS_MEASURE, '1', coldSubject, coldBaseline, `skipped: OpenBao not reachable on ${openbaoTarget()} (${why})`), target: '–' });
    return rows;
  }
  const raw = rawVaultClient();
  await raw.write(VAULT_DATA_PATH, { data: VAULT_SECRET });
  const source = await createVaultSecretSource({ address: OPENBAO_ADDR, mount: MOUNT, timeoutMs: TIMEOUT_MS, auth: { method: 'token', token: SecretString.of(OPENBAO_TOKEN) } });
  // ttlMs 0: nothing is cached, every getSecret reads Vault (logical name → secret/data/onex-bench/vault, key password).
  const cold = createSecretResolver({ sources: [source], ttlMs: 0 });
  try {
    const coldName = `${VAULT_PATH}/password`;
    if ((await cold.getSecret(coldName)) !== value) throw new Error('unexpected cold getSecret result');
    const r = await measureAll(
      {
        resolver: () => cold.getSecret(coldName),
        raw: async () => {
          const answer = await raw.read(VAULT_DATA_PATH);
          return answer.data.data.password;
        },
      },
      { concurrency: 1, ...options },
    );
    rows.push(infoRow(SECRETS_MEASURE, coldSubject, coldBaseline, r.resolver, r.raw));
  } finally {
    cold.close();
    await source.close();
  }
  return rows;
}
