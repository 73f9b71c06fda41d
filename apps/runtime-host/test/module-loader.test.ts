/**
 * The node module loader on real files in a temporary contract tree: what the corpus
 * (verdict-agreement.test.ts) cannot show with fixed fixtures. Packages named in
 * allowed_packages resolve from the contract's node_modules; allowed_roots widen the tree;
 * require_integrity is an error in production and a warning elsewhere; each file is
 * imported once however many exports are asked of it; `run` logs and `describe` shows
 * module, export and hash.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImplementationRef } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeModules, type ModulePolicy, type ModuleRequest } from '../src/module-loader.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/cli.js');
const CORE = path.resolve(here, '../../../packages/core');

let tree: string;

async function put(rel: string, text: string): Promise<string> {
  const file = path.join(tree, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

function request(node: string, ref: Partial<ImplementationRef> & { module: string }, contractRel = 'nodes/n.yaml'): ModuleRequest {
  return {
    node,
    ref: { export: 'default', ...ref },
    contractFile: path.join(tree, contractRel),
    displayFile: contractRel,
    at: ['implementation'],
    lineOf: () => 7,
  };
}

function policy(over: Partial<ModulePolicy> = {}): ModulePolicy {
  return { roots: [tree], packages: [], missingHash: 'allowed', ...over };
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  tree = await mkdtemp(path.join(os.tmpdir(), 'onex-loader-'));
  await put('logic/count.mjs', 'globalThis.__onexLoads = (globalThis.__onexLoads ?? 0) + 1;\nexport const a = (x) => x;\nexport const b = (x) => x;\n');
  await put('node_modules/@acme/pricing/package.json', JSON.stringify({ name: '@acme/pricing', type: 'module', exports: { '.': './index.js', './rules': './rules.js' } }));
  await put('node_modules/@acme/pricing/index.js', 'export default (input) => ({ priced: input });\n');
  await put('node_modules/@acme/pricing/rules.js', 'export const rule = (input) => input;\n');
  await put('shared/lib/extra.mjs', 'export default (x) => x;\n');
});

afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('loadNodeModules', () => {
  it('imports a file once, however many exports of it are named', async () => {
    const before = (globalThis as { __onexLoads?: number }).__onexLoads ?? 0;
    const a = request('n1', { module: '../logic/count.mjs', export: 'a' });
    const b = request('n2', { module: '../logic/count.mjs', export: 'b' });
    const result = await loadNodeModules([a, b], policy());
    expect(result.issues).toEqual([]);
    expect(typeof result.modules.get(a.ref)).toBe('function');
    expect(typeof result.modules.get(b.ref)).toBe('function');
    expect((globalThis as { __onexLoads?: number }).__onexLoads).toBe(before + 1);
    expect(result.loaded.map((m) => [m.node, m.export, m.sha256])).toEqual([
      ['n1', 'a', sha(await readFile(path.join(tree, 'logic/count.mjs'), 'utf8'))],
      ['n2', 'b', sha(await readFile(path.join(tree, 'logic/count.mjs'), 'utf8'))],
    ]);
  });

  it('resolves a package listed in allowed_packages from the contract, subpath exports included', async () => {
    const main = request('p', { module: '@acme/pricing' });
    const sub = request('q', { module: '@acme/pricing/rules', export: 'rule' });
    const result = await loadNodeModules([main, sub], policy({ packages: ['@acme/pricing'] }));
    expect(result.issues).toEqual([]);
    expect(result.loaded.map((m) => m.file)).toEqual([
      expect.stringContaining(path.join('node_modules', '@acme', 'pricing', 'index.js')),
      expect.stringContaining(path.join('node_modules', '@acme', 'pricing', 'rules.js')),
    ]);
  });

  it('refuses a listed package path the package does not export, as not found', async () => {
    const result = await loadNodeModules([request('p', { module: '@acme/pricing/internal.js' })], policy({ packages: ['@acme/pricing'] }));
    expect(result.issues.map((i) => [i.ruleId, i.line, i.path])).toEqual([['HANDLER_LOADER_010', 7, 'implementation.module']]);
  });

  it('refuses a package that is not listed, even when it is installed', async () => {
    const result = await loadNodeModules([request('p', { module: '@acme/pricing' })], policy());
    expect(result.issues[0]?.ruleId).toBe('HANDLER_LOADER_013');
    expect(result.issues[0]?.hint).toContain('allowed_packages');
  });

  it('allows a directory outside the tree once allowed_roots lists it, and not before', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'onex-loader-root-'));
    try {
      await writeFile(path.join(outside, 'mod.mjs'), 'export default (x) => x;\n');
      const req = request('o', { module: path.join(outside, 'mod.mjs') });
      expect((await loadNodeModules([req], policy())).issues.map((i) => i.ruleId)).toEqual(['HANDLER_LOADER_013']);
      expect((await loadNodeModules([req], policy({ roots: [tree, outside] }))).issues).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refuses a symlinked directory inside the tree that leads out of it, and follows one that stays inside', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'onex-loader-link-'));
    try {
      await writeFile(path.join(outside, 'mod.mjs'), 'export default (x) => x;\n');
      await symlink(outside, path.join(tree, 'vendor'));
      const result = await loadNodeModules([request('s', { module: '../vendor/mod.mjs' })], policy());
      expect(result.issues.map((i) => i.ruleId)).toEqual(['HANDLER_LOADER_013']);
      expect(result.issues[0]?.message).toContain('symbolic link');
      await symlink(path.join(tree, 'shared'), path.join(tree, 'shared-link'));
      expect((await loadNodeModules([request('t', { module: '../shared-link/lib/extra.mjs' })], policy())).issues).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('require_integrity: a missing sha256 is an error in production, a warning elsewhere; a pinned one passes', async () => {
    const text = await readFile(path.join(tree, 'shared/lib/extra.mjs'), 'utf8');
    const unpinned = request('i', { module: '../shared/lib/extra.mjs' });
    const prod = await loadNodeModules([unpinned], policy({ missingHash: 'error' }));
    expect(prod.issues.map((i) => [i.ruleId, i.severity])).toEqual([['HANDLER_LOADER_015', 'error']]);
    expect(prod.issues[0]?.hint).toContain(sha(text));
    expect(prod.modules.size).toBe(0);
    const dev = await loadNodeModules([unpinned], policy({ missingHash: 'warning' }));
    expect(dev.issues.map((i) => [i.ruleId, i.severity])).toEqual([['HANDLER_LOADER_015', 'warning']]);
    expect(dev.modules.size).toBe(1);
    const pinned = request('i', { module: '../shared/lib/extra.mjs', sha256: sha(text) });
    const ok = await loadNodeModules([pinned], policy({ missingHash: 'error' }));
    expect(ok.issues).toEqual([]);
    expect(ok.loaded[0]?.pinned).toBe(true);
  });

  it('a module whose own import fails is an import error, not "not found"', async () => {
    await put('logic/broken-import.mjs', "import './does-not-exist.mjs';\nexport default () => 1;\n");
    const result = await loadNodeModules([request('b', { module: '../logic/broken-import.mjs' })], policy());
    expect(result.issues.map((i) => i.ruleId)).toEqual(['HANDLER_LOADER_012']);
    expect(result.issues[0]?.message).toContain('does-not-exist.mjs');
  });

  it('never repeats a credential a module put in its error message', async () => {
    await put('logic/leaky.mjs', "throw new Error('cannot connect to postgres://app:hunter2secret@db:5432/x');\n");
    const result = await loadNodeModules([request('l', { module: '../logic/leaky.mjs' })], policy());
    expect(result.issues[0]?.ruleId).toBe('HANDLER_LOADER_012');
    expect(result.issues[0]?.message).not.toContain('hunter2secret');
  });
});

/** Runs the binary in the temp tree. */
function bin(args: readonly string[], env: Record<string, string> = {}, untilReady = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tree, env: { ...process.env, LOG_LEVEL: 'info', ONEX_INGRESS_PORT: '0', ...env } });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Once: a second SIGTERM means "stop without draining" (exit 6).
      if (untilReady && !stopping && /^ready: /m.test(stdout)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the binary shows what code it runs', () => {
  let moduleSha: string;

  beforeAll(async () => {
    // The tree's modules import @onex/core as a user's project does: from its own node_modules.
    await mkdir(path.join(tree, 'node_modules', '@onex'), { recursive: true });
    await symlink(CORE, path.join(tree, 'node_modules', '@onex', 'core'));
    const code = "import { defineCompute } from '@onex/core';\nexport const pricing = defineCompute({ compute: (input) => ({ total: input.amount * 2 }) });\n";
    moduleSha = sha(code);
    await put('logic/pricing.mjs', code);
    await put(
      'nodes/pricing.yaml',
      ['node_version: "1.0.0"', 'name: "pricing"', 'node_type: "COMPUTE"', 'description: "doubles"', 'input_model: { name: "In" }', 'output_model: { name: "Out" }', 'implementation:', '  module: "../logic/pricing.mjs"', '  export: "pricing"', ''].join('\n'),
    );
    await put(
      'runtime-host.yaml',
      [
        'schema_version: "1.0.0"',
        'runtime:',
        '  name: "loader_test"',
        '  version: "1.0.0"',
        '  event_bus: { kind: "inmemory" }',
        '  handlers: []',
        '  nodes:',
        '    - slug: "pricing"',
        '      contract: "nodes/pricing.yaml"',
        '  modules:',
        '    require_integrity: true',
        '',
      ].join('\n'),
    );
  });

  it('describe --json lists the module, export and hash of each node', async () => {
    const out = await bin(['describe', 'runtime-host.yaml', '--json']);
    expect(out.code).toBe(0);
    const wiring = JSON.parse(out.stdout) as { nodes: Array<{ slug: string; code: Array<{ file: string; export: string; sha256: string; pinned: boolean }> }> };
    expect(wiring.nodes.find((n) => n.slug === 'pricing')?.code).toEqual([{ at: 'implementation', module: '../logic/pricing.mjs', file: 'logic/pricing.mjs', export: 'pricing', sha256: moduleSha, pinned: false }]);
  });

  it('run logs the code it loaded, and warns of the missing hash outside production', async () => {
    const out = await bin(['run', 'runtime-host.yaml'], {}, true);
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'node code loaded')).toMatchObject({ node: 'pricing', file: 'logic/pricing.mjs', export: 'pricing', sha256: moduleSha, pinned: false });
    expect(lines.find((l) => l.rule_id === 'HANDLER_LOADER_015')).toMatchObject({ level: 'warn' });
  });

  it('with ENVIRONMENT=prod the unpinned module is refused by validate and run alike (exit 1, file:line)', async () => {
    const validated = await bin(['validate', 'runtime-host.yaml'], { ENVIRONMENT: 'prod' });
    const run = await bin(['run', 'runtime-host.yaml', '--dry-run'], { ENVIRONMENT: 'prod' });
    for (const out of [validated, run]) {
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/nodes\/pricing\.yaml:\d+ error HANDLER_LOADER_015 at implementation\.module/);
      expect(out.stderr).toContain(`sha256: "${moduleSha}"`);
    }
  });
});
