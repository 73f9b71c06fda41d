/**
 * Handler contracts on disk: discovery (ticket 11), source modes and the hybrid merge
 * (ticket 9), the bootstrap override gate (ticket 15) and secret scopes at registration
 * (ticket 12). Real files in a temp directory, a fixed clock, a capturing logger.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HandlerValidationError, parseRuntimeHostContract, type RuntimeHostContract } from '@onex/core';
import type { HandlerDescriptor } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { HandlerBootstrapSource } from '../../src/runtime/handler-bootstrap-source.js';
import { HandlerContractSource, implementationsFromDescriptors } from '../../src/runtime/handler-contract-source.js';
import { assertBindingSecrets, bindingSecretRefs, matchesSecretScope, secretScopeFailures } from '../../src/runtime/handler-security.js';
import { handlerSourceFromContract, resolveHandlerSource } from '../../src/runtime/handler-source-resolution.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';

type LogLine = Record<string, unknown> & { msg: string };

function capture(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } }), lines };
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-hcontract-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const handlerContract = (fields: { name?: string; type?: string; version?: string; commands?: string[]; extra?: string[] } = {}) =>
  [
    `handler_name: "${fields.name ?? 'handler_db'}"`,
    `handler_version: "${fields.version ?? '1.0.0'}"`,
    `handler_type: "${fields.type ?? 'db'}"`,
    'handler_type_category: "effect"',
    'capabilities: []',
    `commands_accepted: ${JSON.stringify(fields.commands ?? ['db.query', 'db.execute'])}`,
    ...(fields.extra ?? []),
    '',
  ].join('\n');

const implementations = async () => implementationsFromDescriptors(await new HandlerBootstrapSource().discoverHandlers());

function runtime(handlers: string[], handlerSource: string[] = []): RuntimeHostContract {
  return parseRuntimeHostContract(
    ['runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', ...handlers.map((h) => `    - ${h}`), '  nodes: []', ...handlerSource, ''].join('\n'),
    { catalog: HANDLER_CATALOG },
  ).contract;
}

const FIXED_NOW = () => new Date('2026-02-01T00:00:00Z');

describe('HandlerContractSource', () => {
  it('finds nested contracts, turns them into descriptors with the built-in factory, and logs the counts', async () => {
    const dir = await tempDir({
      'handlers/db/handler_contract.yaml': handlerContract({ extra: ['security: { secret_scopes: ["env://DB_*"] }'] }),
      'handlers/deep/er/http/handler_contract.yaml': handlerContract({ name: 'handler_http', type: 'http', commands: ['http.get'] }),
      'handlers/notes/README.md': 'not a contract',
    });
    const { logger, lines } = capture();
    const source = new HandlerContractSource({ contractPaths: [path.join(dir, 'handlers')], implementations: await implementations(), logger });
    const descriptors = await source.discoverHandlers();
    expect(source.sourceType).toBe('contract');
    expect(descriptors.map((d) => [d.handlerName, d.handlerType, d.category, [...d.commandsAccepted]])).toEqual([
      ['handler_db', 'db', 'effect', ['db.query', 'db.execute']],
      ['handler_http', 'http', 'effect', ['http.get']],
    ]);
    expect(descriptors[0]?.security).toMatchObject({ secretScopes: ['env://DB_*'] });
    expect(descriptors[0]?.source).toMatch(/handlers[/\\]db[/\\]handler_contract\.yaml$/);
    const handler = await descriptors[1]?.factory();
    expect(handler?.handlerType).toBe('http');
    expect(lines.find((l) => l.msg === 'handler contracts discovered')).toMatchObject({ discovered_contract_count: 2, validation_failure_count: 0 });
  });

  it('refuses a contract path too big to scan (e.g. "/") with a structured failure instead of walking it', async () => {
    const files: Record<string, string> = { 'handlers/db/handler_contract.yaml': handlerContract() };
    for (let i = 0; i < 30; i += 1) files[`noise/file-${i}.txt`] = 'x';
    const dir = await tempDir(files);
    const discovery = await new HandlerContractSource({ contractPaths: [dir], implementations: await implementations(), maxScannedEntries: 10 }).discover();
    expect(discovery.descriptors).toEqual([]);
    expect(discovery.failures.map((f) => [f.ruleId, f.message])).toEqual([['HANDLER_CONTRACT_UNREADABLE', 'Contract path holds more than 10 entries; it is not scanned']]);
  });

  it('reports malformed files as structured failures, counts them, and still returns the valid ones', async () => {
    const dir = await tempDir({
      'a/handler_contract.yaml': handlerContract(),
      'b/handler_contract.yaml': 'handler_name: "handler_x"\nhandler_type: [db\n',
      'c/handler_contract.yaml': handlerContract({ name: 'handler_pub', type: 'http', commands: ['http.get'], extra: ['publishes: ["onex.acme.x.evt.v1"]'] }),
      'd/handler_contract.yaml': handlerContract({ name: 'handler_http', type: 'http', commands: ['http.get', 'http.teleport'] }),
    });
    const { logger, lines } = capture();
    const source = new HandlerContractSource({ contractPaths: [dir], implementations: await implementations(), logger });
    const discovery = await source.discover();
    expect(discovery.descriptors.map((d) => d.handlerName)).toEqual(['handler_db']);
    expect(discovery.failures.map((f) => [f.ruleId, path.basename(path.dirname(f.file ?? '')), f.line, f.sourceType])).toEqual([
      ['CONTRACT_YAML_SYNTAX', 'b', 3, 'contract'],
      ['HANDLER_CONTRACT_FORBIDDEN_DECLARATION', 'c', 7, 'contract'],
      ['HANDLER_CONTRACT_UNKNOWN_COMMAND', 'd', 6, 'contract'],
    ]);
    expect(discovery.failures[1]?.handlerIdentity).toBe('handler_pub');
    expect(discovery.failures.every((f) => f.hint.length > 0)).toBe(true);
    expect(lines.find((l) => l.msg === 'handler contracts discovered')).toMatchObject({ discovered_contract_count: 4, validation_failure_count: 3 });
  });

  it('rejects a type the host does not ship, a version it does not satisfy, duplicates and oversized files', async () => {
    const dir = await tempDir({
      'a/handler_contract.yaml': handlerContract({ name: 'handler_grpc', type: 'grpc', commands: ['grpc.call'] }),
      'b/handler_contract.yaml': handlerContract({ version: '2.0.0' }),
      'c/handler_contract.yaml': handlerContract(),
      'd/handler_contract.yaml': handlerContract({ name: 'handler_db2' }),
      'e/handler_contract.yaml': `${handlerContract({ name: 'handler_big' })}# ${'x'.repeat(2048)}\n`,
    });
    const discovery = await new HandlerContractSource({ contractPaths: [dir], implementations: await implementations(), maxFileBytes: 1024 }).discover();
    expect(discovery.descriptors.map((d) => d.handlerName)).toEqual(['handler_db']);
    expect(discovery.failures.map((f) => f.ruleId).sort()).toEqual(
      ['HANDLER_CONTRACT_DUPLICATE', 'HANDLER_CONTRACT_NO_IMPLEMENTATION', 'HANDLER_CONTRACT_TOO_LARGE', 'HANDLER_CONTRACT_VERSION_MISMATCH'].sort(),
    );
  });

  it('does not follow a symbolic link out of the contract path', async () => {
    const outside = await tempDir({ 'handler_contract.yaml': handlerContract() });
    const dir = await tempDir();
    await mkdir(path.join(dir, 'db'));
    await symlink(path.join(outside, 'handler_contract.yaml'), path.join(dir, 'db', 'handler_contract.yaml'));
    await symlink(outside, path.join(dir, 'linked-dir'));
    const discovery = await new HandlerContractSource({ contractPaths: [dir], implementations: await implementations() }).discover();
    expect(discovery.descriptors).toEqual([]);
    expect(discovery.failures.map((f) => f.ruleId)).toEqual(['HANDLER_CONTRACT_UNREADABLE']);
  });

  it('treats a missing contract path as empty, not as a crash', async () => {
    const discovery = await new HandlerContractSource({ contractPaths: [path.join(os.tmpdir(), 'onex-no-such-dir-x')], implementations: await implementations() }).discover();
    expect(discovery).toMatchObject({ descriptors: [], failures: [] });
  });
});

describe('resolveHandlerSource', () => {
  it('contract mode (the default) registers handler contracts only', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract() });
    const result = await resolveHandlerSource({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }']), contractDir: dir });
    if (!result.ok) throw new Error(JSON.stringify(result.failures));
    expect(result.source.sourceType).toBe('contract');
    expect(result.source.descriptors.map((d) => d.handlerName)).toEqual(['handler_db']);
  });

  it('contract mode fails for a binding no handler contract provides, naming the type, the paths searched and the fix', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract() });
    const text = ['runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - { type: db, config: { url: "pglite://memory" } }', '    - type: http', '  nodes: []', ''].join('\n');
    const result = await resolveHandlerSource({ contract: parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG }).contract, contractDir: dir, contractFile: 'runtime-host.yaml', contractText: text });
    if (result.ok) throw new Error('expected a failure');
    expect(result.failures).toEqual([
      expect.objectContaining({ ruleId: 'HANDLER_CONTRACT_MISSING', file: 'runtime-host.yaml', line: 7, path: 'runtime.handlers[1].type', sourceType: 'contract' }),
    ]);
    expect(result.failures[0]?.message).toContain(path.join(dir, 'handlers'));
    expect(result.failures[0]?.hint).toMatch(/^Add handlers\/http\/handler_contract\.yaml.*mode: hybrid/);
  });

  it('contract mode fails on a malformed handler contract', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract({ extra: ['dispatch_rules: []'] }) });
    const result = await resolveHandlerSource({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }']), contractDir: dir });
    expect(result.ok ? [] : result.failures.map((f) => f.ruleId)).toEqual(['HANDLER_CONTRACT_FORBIDDEN_DECLARATION', 'HANDLER_CONTRACT_MISSING']);
  });

  it('hybrid: a contract wins over bootstrap by identity; bootstrap fills in what no contract provides; counts are logged', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract({ version: '1.0.0', commands: ['db.query'] }) });
    const { logger, lines } = capture();
    const result = await resolveHandlerSource({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }', 'type: http'], ['  handler_source: { mode: hybrid }']), contractDir: dir, logger });
    if (!result.ok) throw new Error(JSON.stringify(result.failures));
    const byName = new Map(result.source.descriptors.map((d): [string, HandlerDescriptor] => [d.handlerName, d]));
    expect([...byName.keys()]).toEqual(['handler_db', 'handler_http', 'handler_vault', 'handler_consul']);
    // The contract's narrower surface wins over the bootstrap descriptor of the same identity.
    expect(byName.get('handler_db')?.commandsAccepted).toEqual(['db.query']);
    expect(byName.get('handler_db')?.source).toBeDefined();
    expect(byName.get('handler_http')?.source).toBeUndefined();
    expect(result.counts).toEqual({ contract: 1, bootstrap: 4, fallback: 3 });
    expect(lines.find((l) => l.msg === 'handler source resolved')).toMatchObject({
      handler_source_mode: 'hybrid',
      contract_handler_count: 1,
      bootstrap_handler_count: 4,
      fallback_handler_count: 3,
    });
  });

  it('hybrid: falls back to bootstrap for every handler when no contract exists', async () => {
    const dir = await tempDir();
    const result = await resolveHandlerSource({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }'], ['  handler_source: { mode: hybrid }']), contractDir: dir });
    expect(result.ok && result.counts).toEqual({ contract: 0, bootstrap: 4, fallback: 4 });
  });

  it('refuses bootstrap mode without allow_bootstrap_override', async () => {
    const result = await resolveHandlerSource({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }'], ['  handler_source: { mode: bootstrap }']), contractFile: 'rt.yaml' });
    if (result.ok) throw new Error('expected a refusal');
    expect(result.failures).toEqual([expect.objectContaining({ ruleId: 'HANDLER_BOOTSTRAP_OVERRIDE_REQUIRED', file: 'rt.yaml', sourceType: 'bootstrap' })]);
    expect(result.failures[0]?.hint).toContain('allow_bootstrap_override: true');
  });

  it('refuses an expired bootstrap override at start and logs the expiry', async () => {
    const { logger, lines } = capture();
    const contract = runtime(['{ type: db, config: { url: "pglite://memory" } }'], ['  handler_source: { mode: bootstrap, allow_bootstrap_override: true, bootstrap_expires_at: "2026-01-15T00:00:00Z" }']);
    await expect(handlerSourceFromContract({ contract, now: FIXED_NOW, logger })).rejects.toSatisfy(
      (e: unknown) => e instanceof HandlerValidationError && e.failures[0]?.ruleId === 'HANDLER_BOOTSTRAP_OVERRIDE_EXPIRED',
    );
    expect(lines.find((l) => l.bootstrap_expired !== undefined)).toMatchObject({ bootstrap_expires_at: '2026-01-15T00:00:00Z', bootstrap_expired: true });
  });

  it('allows an unexpired bootstrap override, with the bootstrap descriptors', async () => {
    const contract = runtime(['{ type: db, config: { url: "pglite://memory" } }'], ['  handler_source: { mode: bootstrap, allow_bootstrap_override: true, bootstrap_expires_at: "2026-03-01T00:00:00Z" }']);
    const source = await handlerSourceFromContract({ contract, now: FIXED_NOW });
    expect(source.sourceType).toBe('bootstrap');
    expect(source.descriptors.map((d) => d.handlerName)).toEqual(['handler_http', 'handler_db', 'handler_vault', 'handler_consul']);
  });

  it('fails start when a binding uses a secret outside its handler contract scopes', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract({ extra: ['security: { secret_scopes: ["env://PG_*"] }'] }) });
    const contract = runtime(['{ type: db, config: { url: { secret_ref: "vault://secret/data/db#url" } } }']);
    const result = await resolveHandlerSource({ contract, contractDir: dir });
    expect(result.ok ? [] : result.failures).toEqual([expect.objectContaining({ ruleId: 'HANDLER_SECRET_SCOPE_VIOLATION', handlerIdentity: 'handler_db' })]);
  });
});

describe('secret scopes before resolution', () => {
  it('refuses a secret outside the scopes before the resolver is ever asked for it', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract({ extra: ['security: { secret_scopes: ["env://PG_*"] }'] }) });
    const asked: string[] = [];
    const resolver = {
      schemes: ['vault'],
      resolve: async (reference: { secretRef: string }) => {
        asked.push(reference.secretRef);
        return 'pglite://memory';
      },
      getSecret: async (name: string) => {
        asked.push(name);
        return 'x';
      },
      getSecrets: async () => ({}),
      forScope() {
        return this;
      },
    };
    const contract = runtime(['{ type: db, config: { url: { secret_ref: "vault://secret/data/db#url" } } }']);
    await expect(createRuntimeHostFromContract({ contract, contractDir: dir, secretResolver: resolver })).rejects.toMatchObject({ code: 'CONTRACT_VALIDATION_ERROR' });
    expect(asked).toEqual([]);
  });
});

describe('secret scopes at registration', () => {
  const descriptor = (security: HandlerDescriptor['security'], isAdapter = false): HandlerDescriptor => ({
    handlerName: 'handler_db',
    handlerVersion: '1.0.0',
    handlerType: 'db',
    category: 'effect',
    isAdapter,
    capabilities: [],
    commandsAccepted: ['db.query'],
    factory: () => {
      throw new Error('not used');
    },
    security,
    source: 'handlers/db/handler_contract.yaml',
  });

  it('matches globs: * inside a segment, ** across segments', () => {
    expect(matchesSecretScope('env://PG_URL', 'env://PG_*')).toBe(true);
    expect(matchesSecretScope('env://DB_URL', 'env://PG_*')).toBe(false);
    expect(matchesSecretScope('vault://secret/data/db/pg#url', 'vault://secret/data/db/*')).toBe(true);
    expect(matchesSecretScope('vault://secret/data/db/a/b#url', 'vault://secret/data/db/*')).toBe(false);
    expect(matchesSecretScope('vault://secret/data/db/a/b#url', 'vault://secret/data/db/**')).toBe(true);
    expect(matchesSecretScope('vault://secret/data/db#url', 'vault://secret/data/db#*')).toBe(true);
  });

  it('collects secret_refs and ${NAME} placeholders from credential fields', () => {
    const contract = runtime(['{ type: db, config: { url: "postgres://app:${PG_PASSWORD}@db/app" } }', '{ type: http, config: { url: { secret_ref: "vault://secret/data/api#url" } } }']);
    const [db, http] = contract.runtime.handlers;
    if (!db || !http) throw new Error('no binding');
    expect(bindingSecretRefs(db)).toEqual(['env://PG_PASSWORD']);
    expect(bindingSecretRefs(http)).toEqual(['vault://secret/data/api#url']);
  });

  it('reports a violation as a structured error with the handler, the reference and a remediation hint', () => {
    const contract = runtime(['{ type: db, config: { url: { secret_ref: "env://DB_URL" } } }']);
    let caught: unknown;
    try {
      assertBindingSecrets(contract.runtime.handlers, [descriptor({ secretScopes: ['env://PG_*'] })], { sourceType: 'contract', file: 'runtime-host.yaml' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HandlerValidationError);
    if (!(caught instanceof HandlerValidationError)) return;
    expect(caught.code).toBe('CONTRACT_VALIDATION_ERROR');
    expect(caught.failures).toEqual([
      expect.objectContaining({ ruleId: 'HANDLER_SECRET_SCOPE_VIOLATION', handlerIdentity: 'handler_db', sourceType: 'contract', file: 'runtime-host.yaml' }),
    ]);
    expect(caught.failures[0]?.message).toContain('env://DB_URL');
    expect(caught.failures[0]?.hint).toContain('secret_scopes');
  });

  it('gives an adapter no secrets unless its contract overrides that', () => {
    expect(secretScopeFailures(descriptor({ secretScopes: [], allowedDomains: [] }, true), ['env://TOKEN'], { sourceType: 'contract' }).map((f) => f.ruleId)).toEqual(['HANDLER_ADAPTER_SECRETS']);
    expect(secretScopeFailures(descriptor({ secretScopes: ['env://TOKEN'], allowSecretScopes: true, allowedDomains: [] }, true), ['env://TOKEN'], { sourceType: 'contract' })).toEqual([]);
  });

  it('does not check descriptors that declare no security (bootstrap)', () => {
    expect(secretScopeFailures(descriptor(undefined), ['env://ANYTHING'], { sourceType: 'bootstrap' })).toEqual([]);
  });
});

describe('createRuntimeHostFromContract', () => {
  it('builds the handler source from runtime.handler_source, contract paths relative to contractDir', async () => {
    const dir = await tempDir({ 'handlers/db/handler_contract.yaml': handlerContract() });
    const host = await createRuntimeHostFromContract({ contract: runtime(['{ type: db, config: { url: "pglite://memory" } }']), contractDir: dir });
    expect(host).toBeDefined();
    await expect(createRuntimeHostFromContract({ contract: runtime(['type: http']), contractDir: dir })).rejects.toBeInstanceOf(HandlerValidationError);
  });
});
