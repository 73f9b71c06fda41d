import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContractValidationError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileRegistry, MAX_CONTRACT_FILE_BYTES } from '../../src/runtime/file-registry.js';

const NODE = (name: string) =>
  [`name: "${name}"`, 'node_version: "1.0.0"', 'node_type: "EFFECT"', 'description: "d"', 'input_model:', '  name: "In"', 'output_model:', '  name: "Out"', 'io_operations:', '  - type: "db"', '    operations: ["db.query"]', ''].join('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'onex-registry-'));
  await mkdir(path.join(dir, 'nodes'));
  await mkdir(path.join(dir, 'broken'));
  await writeFile(path.join(dir, 'nodes', 'b_node.yaml'), NODE('b_node'));
  await writeFile(path.join(dir, 'nodes', 'a_node.yml'), NODE('a_node'));
  await writeFile(path.join(dir, 'nodes', 'notes.txt'), 'not a contract');
  await symlink(path.join(dir, 'nodes', 'a_node.yml'), path.join(dir, 'linked.yaml'));
  await writeFile(path.join(dir, 'broken', 'one.yaml'), 'name: "one"\nnode_type: "EFFECT"\n');
  await writeFile(path.join(dir, 'broken', 'two.yaml'), 'name: [unclosed\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileRegistry', () => {
  it('loads one contract, resolving relative paths from its base directory and following symlinks', async () => {
    const registry = new FileRegistry(dir);
    expect((await registry.load('nodes/b_node.yaml')).contract.name).toBe('b_node');
    expect((await registry.load('linked.yaml')).contract.name).toBe('a_node');
    expect((await registry.load(path.join(dir, 'nodes', 'a_node.yml'))).contract.name).toBe('a_node');
  });

  it('loads every YAML contract of a directory in name order and ignores other files', async () => {
    const loaded = await new FileRegistry(dir).loadAll('nodes');
    expect(loaded.map((l) => l.contract.name)).toEqual(['a_node', 'b_node']);
  });

  it('refuses a file over the size cap before parsing it (CONTRACT_FILE_TOO_LARGE)', async () => {
    const big = path.join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(MAX_CONTRACT_FILE_BYTES)}\n${NODE('big')}`);
    const result = await new FileRegistry(dir).check('big.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.ruleId)).toEqual(['CONTRACT_FILE_TOO_LARGE']);
    const runtime = await new FileRegistry(dir).checkRuntime('big.yaml');
    expect(!runtime.ok && runtime.issues[0]?.message).toMatch(/limited to 262144 bytes/);
  });

  it('fails on a missing file with CONTRACT_FILE_NOT_FOUND, not a crash', async () => {
    const error = await new FileRegistry(dir).load('nodes/nope.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractValidationError);
    expect((error as ContractValidationError).issues[0]).toMatchObject({ ruleId: 'CONTRACT_FILE_NOT_FOUND' });
  });

  it('fails a directory with invalid contracts, reporting the problems of every file', async () => {
    const error = (await new FileRegistry(dir).loadAll('broken').catch((e: unknown) => e)) as ContractValidationError;
    expect(error).toBeInstanceOf(ContractValidationError);
    const files = new Set(error.issues.map((i) => path.basename(i.file ?? '')));
    expect(files).toEqual(new Set(['one.yaml', 'two.yaml']));
    expect(error.issues.map((i) => i.ruleId)).toEqual(expect.arrayContaining(['CONTRACT_MISSING_FIELD', 'CONTRACT_YAML_SYNTAX']));
  });

  it('reports a missing directory as an issue', async () => {
    const error = (await new FileRegistry(dir).loadAll('no-such-dir').catch((e: unknown) => e)) as ContractValidationError;
    expect(error.issues[0]).toMatchObject({ ruleId: 'CONTRACT_FILE_NOT_FOUND' });
  });
});
