#!/usr/bin/env node
// A throw-away npm registry on loopback for the release round trip: verdaccio, with the
// registry npm is configured for as its uplink (third-party dependencies resolve through it)
// and `@onex/*` served only from what was published to it.
//
//   node tooling/release/registry.mjs            # start one, print its URL, stop on Ctrl-C
//
// verdaccio is installed once per version into ~/.cache/onex-tools/verdaccio/<version>
// (outside the repository, so the workspace lockfile does not carry it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * 6.1.6: the newest verdaccio that starts on Node 20 (6.10 asks for Node 22). Its tree asks
 * for `node-fetch@cjs`, a dist-tag the registry here does not serve: pinned by override.
 */
export const VERDACCIO_VERSION = '6.1.6';
const OVERRIDES = { 'node-fetch': '2.7.0' };

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The registry npm uses on this machine (its config, never a name written here). */
export function npmRegistry() {
  const out = spawnSync(npm, ['config', 'get', 'registry'], { encoding: 'utf8' });
  const url = out.stdout?.trim();
  if (out.status !== 0 || !url) throw new Error(`npm config get registry failed: ${out.stderr ?? ''}`);
  return url.endsWith('/') ? url : `${url}/`;
}

/** verdaccio's entry point, installed into the cache when missing. */
export function ensureVerdaccio() {
  const home = join(homedir(), '.cache', 'onex-tools', 'verdaccio', VERDACCIO_VERSION);
  const bin = join(home, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  if (existsSync(bin)) return bin;
  const partial = `${home}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), `${JSON.stringify({ name: 'onex-verdaccio', private: true, dependencies: { verdaccio: VERDACCIO_VERSION }, overrides: OVERRIDES }, null, 2)}\n`);
  const started = Date.now();
  const installed = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: partial, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (installed.status !== 0) throw new Error(`installing verdaccio ${VERDACCIO_VERSION} failed:\n${installed.stdout}${installed.stderr}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(join(home, '..'), { recursive: true });
  renameSync(partial, home);
  console.error(`registry: installed verdaccio ${VERDACCIO_VERSION} into ${home} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return bin;
}

/** A port free on loopback now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** @param {string} storage @param {string} uplink */
function config(storage, uplink) {
  // Anyone may publish: the registry lives for one test, on loopback, with a fresh storage.
  return [
    `storage: ${JSON.stringify(storage)}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(storage, 'htpasswd'))}`,
    'uplinks:',
    '  upstream:',
    `    url: ${JSON.stringify(uplink)}`,
    '    timeout: 60s',
    'packages:',
    "  '@onex/*':",
    '    access: $all',
    '    publish: $all',
    '    unpublish: $all',
    "  '**':",
    '    access: $all',
    '    publish: $all',
    '    proxy: upstream',
    'log: { type: stdout, format: json, level: warn }',
    'server:',
    '  keepAliveTimeout: 60',
    '',
  ].join('\n');
}

/**
 * Starts verdaccio on a free loopback port with a fresh storage.
 * @param {{ dir?: string }} [options] `dir`: where storage and config go (a new temp dir by default)
 * @returns {Promise<{ url: string, npmrc: string, stop: () => Promise<void>, log: () => string }>}
 *   `npmrc`: a userconfig file that points npm (and pnpm) at it, with a token for publishing.
 */
export async function startRegistry(options = {}) {
  const bin = ensureVerdaccio();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'onex-registry-'));
  const storage = join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, config(storage, npmRegistry()));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const npmrc = join(dir, 'npmrc');
  // Any token: the registry lets anyone publish, but npm refuses to publish without one.
  writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=onex-release-test\n`);
  let output = '';
  const child = spawn(process.execPath, [bin, '--config', configFile, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}) before it answered:\n${output}`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`verdaccio did not answer ${url}-/ping within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    npmrc,
    log: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const registry = await startRegistry();
  console.log(`registry: ${registry.url} (npm userconfig with a publish token: ${registry.npmrc}); Ctrl-C stops it`);
  const stop = () => void registry.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
