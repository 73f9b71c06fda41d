/**
 * Handler config resolution (spec 3.13): config_ref files, inline config and environment
 * overrides merged in that order; `${VAR}` / `${VAR:-default}` filled; secrets resolved
 * through the binding's scoped resolver and kept as SecretStrings; every missing value
 * reported at once, at its file:line. Real files in a temp directory; env is a plain object.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HandlerConfigurationError, SECRET_MASK, SecretResolutionError, isSecretString, parseRuntimeHostContract, type OnexError, type RuntimeHostContract } from '@onex/core';
import type { SecretLookup, SecretSource } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { EnvSecretSource } from '../../src/secrets/env-secret-source.js';
import { SecretResolver } from '../../src/secrets/secret-resolver.js';
import { HandlerConfigResolver, envOverrideName } from '../../src/runtime/handler-config-resolver.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-hconfig-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

function contractText(handlers: string[]): string {
  return ['runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', ...handlers, '  nodes: []', ''].join('\n');
}

function setup(handlers: string[], env: Record<string, string>, dir: string, sources?: SecretSource[]) {
  const text = contractText(handlers);
  const contract: RuntimeHostContract = parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG }).contract;
  const secrets = new SecretResolver({ sources: sources ?? [new EnvSecretSource({ env })], ttlMs: 0 });
  const resolver = new HandlerConfigResolver({ secrets, env, contract, contractDir: dir, contractFile: 'runtime.yaml', contractText: text });
  return { contract, resolver, secrets };
}

async function failure(promise: Promise<unknown>): Promise<OnexError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HandlerConfigurationError)) throw new Error(`expected HandlerConfigurationError, got ${String(error)}`);
  return error;
}

describe('HandlerConfigResolver', () => {
  it('merges config_ref < inline config < environment override and validates the result with the handler schema', async () => {
    const dir = await tempDir({ 'config/db.yaml': 'pool_size: 2\napplication_name: from-file\nmax_rows: 10\ntimeout_ms: 1000\n' });
    const { contract, resolver } = setup(
      ['    - type: db', '      config_ref: config/db.yaml', '      config:', '        url: "pglite://memory"', '        application_name: from-contract', '        max_rows: 20'],
      { [envOverrideName('db', 'max_rows')]: '30' },
      dir,
    );
    const [binding] = await resolver.resolveAll(contract.runtime.handlers);
    // pool_size and timeout_ms from the file, application_name from the contract, max_rows from the environment.
    expect(binding?.settings).toMatchObject({ poolSize: 2, applicationName: 'from-contract', maxRows: 30 });
    expect(binding?.policies.timeoutMs).toBe(1000);
    expect(Object.isFrozen(binding?.settings)).toBe(true);
    expect(envOverrideName('orders-db', 'pool_size')).toBe('ONEX_HANDLER_ORDERS_DB_POOL_SIZE');
  });

  it('names the override variable this resolver reads when a contract puts a placeholder in a typed field', () => {
    const text = ['runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - type: db', '      name: orders-db', '      config: { url: "pglite://memory", pool_size: "${POOL:-4}" }', '  nodes: []', ''].join('\n');
    // Core writes the hint; the variable it names must be the one envOverrideName reads.
    expect(() => parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG })).toThrow(`export ${envOverrideName('orders-db', 'pool_size')} instead`);
  });

  it('fills ${VAR} and ${VAR:-default} in every string value; credentials come out as SecretStrings', async () => {
    const dir = await tempDir();
    const { contract, resolver } = setup(
      ['    - type: db', '      config:', '        url: "postgres://app:${DB_PASSWORD}@${DB_HOST:-127.0.0.1}:5432/app"', '        application_name: "${APP_NAME:-orders}-${REGION}"'],
      { DB_PASSWORD: 's3cr3t-pw', REGION: 'eu', APP_NAME: '' },
      dir,
    );
    const [binding] = await resolver.resolveAll(contract.runtime.handlers);
    // An empty variable counts as unset, as in the env secret source: the default applies.
    expect(binding?.settings.applicationName).toBe('orders-eu');
    const url = binding?.settings.url;
    expect(isSecretString(url)).toBe(true);
    if (isSecretString(url)) expect(url.reveal()).toBe('postgres://app:s3cr3t-pw@127.0.0.1:5432/app');
    expect(JSON.stringify(binding)).not.toContain('s3cr3t-pw');
  });

  it('reports every missing value of every handler in one error, each with its handler, field and file:line', async () => {
    const dir = await tempDir();
    const { contract, resolver } = setup(
      [
        '    - type: http',
        '      config:',
        '        url: "${API_URL}"',
        '    - type: db',
        '      config_ref: config/missing.yaml',
        '      config:',
        '        url: { secret_ref: "env://DB_URL" }',
        '        application_name: "${APP}"',
      ],
      {},
      dir,
    );
    const error = await failure(resolver.resolveAll(contract.runtime.handlers));
    expect(error.details.problems).toEqual([
      expect.objectContaining({ handler: 'http', field: 'url', where: 'runtime.yaml:8', message: expect.stringContaining('API_URL') }),
      expect.objectContaining({ handler: 'db', field: 'config_ref', where: 'runtime.yaml:10', message: 'config_ref file "config/missing.yaml" does not exist' }),
      expect.objectContaining({ handler: 'db', field: 'url', where: 'runtime.yaml:12', message: expect.stringContaining('env://DB_URL was not found (tried env)') }),
      expect.objectContaining({ handler: 'db', field: 'application_name', where: 'runtime.yaml:13', message: expect.stringContaining('APP is not set') }),
    ]);
    expect(error.message).toContain('4 problems');
  });

  it('points at the config_ref file and line for a bad value written there', async () => {
    const dir = await tempDir({ 'db.json': '{\n  "url": "pglite://memory",\n  "pool_size": "many"\n}\n' });
    const { contract, resolver } = setup(['    - type: db', '      config_ref: db.json'], {}, dir);
    const error = await failure(resolver.resolveAll(contract.runtime.handlers));
    expect(error.details.problems).toEqual([expect.objectContaining({ handler: 'db', field: 'pool_size', where: 'db.json:3' })]);
  });

  it('keeps config_ref inside the contract directory: no "..", no absolute path, no symlink out, no oversized file', async () => {
    const outside = await tempDir({ 'db.yaml': 'url: "pglite://memory"\n' });
    const dir = await tempDir({ 'big.yaml': `application_name: "${'x'.repeat(300 * 1024)}"\n` });
    await symlink(path.join(outside, 'db.yaml'), path.join(dir, 'link.yaml'));
    for (const [ref, message] of [
      ['../db.yaml', 'leads outside'],
      [path.join(outside, 'db.yaml'), 'leads outside'],
      ['link.yaml', 'leads outside'],
      ['big.yaml', 'larger than'],
    ] as const) {
      const { contract, resolver } = setup(['    - type: db', `      config_ref: "${ref}"`, '      config: { url: "pglite://memory" }'], {}, dir);
      const error = await failure(resolver.resolveAll(contract.runtime.handlers));
      expect(error.details.problems).toEqual([expect.objectContaining({ field: 'config_ref', message: expect.stringContaining(message) })]);
    }
  });

  it('refuses a literal credential in a config_ref file, as in the contract', async () => {
    const dir = await tempDir({ 'db.yaml': 'url: "postgres://app:hunter2@db/app"\n' });
    const { contract, resolver } = setup(['    - type: db', '      config_ref: db.yaml'], {}, dir);
    const error = await failure(resolver.resolveAll(contract.runtime.handlers));
    expect(error.details.problems).toEqual([expect.objectContaining({ field: 'url', where: 'db.yaml:1', message: expect.stringContaining('contains a password') })]);
    expect(JSON.stringify(error.details) + error.message).not.toContain('hunter2');
  });

  it('overrides a credential only with a reference, never with the secret itself', async () => {
    const dir = await tempDir();
    const variable = envOverrideName('db', 'url');
    const plain = setup(['    - type: db', '      config: { url: "pglite://memory" }'], { [variable]: 'postgres://app:pw-in-env@db/app' }, dir);
    const error = await failure(plain.resolver.resolveAll(plain.contract.runtime.handlers));
    expect(error.details.problems).toEqual([expect.objectContaining({ field: 'url', where: `environment variable ${variable}`, message: expect.stringContaining('must be a reference') })]);
    expect(error.message).not.toContain('pw-in-env');

    const ref = setup(['    - type: db', '      config: { url: "pglite://memory" }'], { [variable]: 'env://OTHER_DB_URL', OTHER_DB_URL: 'pglite://memory/other' }, dir);
    const [binding] = await ref.resolver.resolveAll(ref.contract.runtime.handlers);
    const url = binding?.settings.url;
    expect(isSecretString(url) ? url.reveal() : url).toBe('pglite://memory/other');
  });

  it("refuses, at the resolver, a secret outside the handler's scopes even when only a config_ref file names it", async () => {
    const dir = await tempDir({ 'db.yaml': 'url: { secret_ref: "env://ADMIN_DB_URL" }\n' });
    const asked: string[] = [];
    const source: SecretSource = {
      name: 'env',
      references: { scheme: 'env', lookup: async (address): Promise<SecretLookup> => (asked.push(address), { value: 'pglite://memory' }) },
      lookup: async () => undefined,
    };
    const text = contractText(['    - type: db', '      config_ref: db.yaml']);
    const contract = parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG }).contract;
    const resolver = new HandlerConfigResolver({
      secrets: new SecretResolver({ sources: [source], ttlMs: 0 }),
      env: {},
      contract,
      contractDir: dir,
      scopesFor: () => ['env://PG_*'],
    });
    const error = await failure(resolver.resolveAll(contract.runtime.handlers));
    expect(error.details.problems).toEqual([expect.objectContaining({ field: 'url', message: expect.stringContaining('outside the secret scopes of this resolver (env://PG_*); refused') })]);
    const cause = error.cause instanceof AggregateError ? error.cause.errors[0] : undefined;
    expect(cause).toBeInstanceOf(SecretResolutionError);
    expect(asked).toEqual([]);
  });

  it('never prints a resolved secret: the binding serialises with the mask', async () => {
    const dir = await tempDir();
    const { contract, resolver } = setup(['    - type: db', '      config: { url: { secret_ref: "env://DB_URL" } }'], { DB_URL: 'postgres://app:very-secret@db/app' }, dir);
    const [binding] = await resolver.resolveAll(contract.runtime.handlers);
    expect(JSON.parse(JSON.stringify(binding?.settings))).toMatchObject({ url: SECRET_MASK });
    // The wire config stays as written: a reference, not the value.
    expect(binding?.wireConfig).toEqual({ url: { secret_ref: 'env://DB_URL' } });
  });
});
