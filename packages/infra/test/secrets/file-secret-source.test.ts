/**
 * The mounted-directory source on real temp dirs: one file per secret, Kubernetes' own
 * symlink layout works, and no name or link reads anything outside the directory.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SecretResolutionError } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretSource } from '../../src/secrets/file-secret-source.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-secrets-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<SecretResolutionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretResolutionError);
  return error as SecretResolutionError;
}

describe('FileSecretSource', () => {
  it('reads one file per secret, nested names as subdirectories, dropping one trailing newline', async () => {
    const dir = await tempDir({ 'db/password': 'pg-pass\n', api_key: 'key\r\n', keep: 'two\n\n', plain: 'no-newline' });
    const source = new FileSecretSource({ dir });
    expect(await source.lookup('db/password')).toEqual({ value: 'pg-pass' });
    expect(await source.lookup('api_key')).toEqual({ value: 'key' });
    expect(await source.lookup('keep')).toEqual({ value: 'two\n' });
    expect(await source.lookup('plain')).toEqual({ value: 'no-newline' });
    expect(source.locate('db/password')).toBe(`file ${path.join(dir, 'db/password')}`);
  });

  it('reports a missing file, or a directory that is not mounted, as not held', async () => {
    const dir = await tempDir({ present: 'x' });
    expect(await new FileSecretSource({ dir }).lookup('absent')).toBeUndefined();
    expect(await new FileSecretSource({ dir }).lookup('present/below')).toBeUndefined();
    expect(await new FileSecretSource({ dir: path.join(dir, 'not-mounted') }).lookup('present')).toBeUndefined();
  });

  it("follows Kubernetes' ..data links, which stay inside the directory", async () => {
    const dir = await tempDir({ '..2026_01_15_09_30_00.123/password': 'rotated\n' });
    await symlink('..2026_01_15_09_30_00.123', path.join(dir, '..data'));
    await symlink('..data/password', path.join(dir, 'password'));
    expect(await new FileSecretSource({ dir }).lookup('password')).toEqual({ value: 'rotated' });
  });

  it('refuses names that climb out of the directory without reading anything', async () => {
    const outside = await tempDir({ 'stolen': 'outside-value' });
    const dir = await tempDir();
    const source = new FileSecretSource({ dir });
    const rel = path.relative(dir, path.join(outside, 'stolen'));
    for (const name of [rel, '../stolen', path.join(outside, 'stolen'), 'a/../../stolen', './x', '..data/password']) {
      const error = await refusal(source.lookup(name));
      expect(error.details.reason).toBe('invalid_name');
      expect(error.message).not.toContain('outside-value');
      // A malformed name is not echoed: it may be a value pasted into the wrong field.
      expect(error.message).not.toContain(name);
    }
  });

  it('refuses a link, or a linked directory, that leads outside the directory', async () => {
    const outside = await tempDir({ 'stolen': 'outside-value', 'sub/inner': 'outside-value' });
    const dir = await tempDir();
    await symlink(path.join(outside, 'stolen'), path.join(dir, 'leak'));
    await symlink(path.join(outside, 'sub'), path.join(dir, 'linked'));
    const source = new FileSecretSource({ dir });
    for (const name of ['leak', 'linked/inner']) {
      const error = await refusal(source.lookup(name));
      expect(error.details).toMatchObject({ logical_name: name, reason: 'symlink_escape', source: 'file' });
      expect(error.message).toContain(`"${name}"`);
      expect(error.message).not.toContain('outside-value');
      expect(error.message).not.toContain(outside);
    }
  });

  it('refuses files over the size cap and things that are not files', async () => {
    const dir = await tempDir({ big: '123456789', ok: '12345678', 'db/password': 'x' });
    const source = new FileSecretSource({ dir, maxBytes: 8 });
    expect((await refusal(source.lookup('big'))).details.reason).toBe('too_large');
    expect(await source.lookup('ok')).toEqual({ value: '12345678' });
    expect((await refusal(source.lookup('db'))).details.reason).toBe('not_a_file');
  });
});
