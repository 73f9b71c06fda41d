#!/usr/bin/env node
// Runs pnpm at exactly the version pinned by the root package.json `packageManager` field,
// on a machine that has only Node and npm. A `pnpm` on PATH is used when its version
// matches; otherwise `npx --yes pnpm@<version>` fetches that version into npm's cache.
//
//   node tooling/scripts/with-pnpm.mjs install --frozen-lockfile
//
// stdio passes straight through and the exit code is pnpm's. `resolvePnpm()` is exported
// so other tooling scripts run the same pnpm.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_NODE = [20, 19];
const isWindows = process.platform === 'win32';

/** The monorepo root: two folders above this file. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Reads the pinned pnpm version from the root package.json (the single source of truth). */
export function pinnedPnpmVersion(root = repoRoot) {
  const file = join(root, 'package.json');
  const field = JSON.parse(readFileSync(file, 'utf8')).packageManager;
  // "pnpm@10.34.8" or "pnpm@10.34.8+sha512.<hash>" (Corepack's integrity suffix).
  const match = typeof field === 'string' ? /^pnpm@(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+.*)?$/.exec(field) : null;
  if (!match) {
    throw new Error(`${file}: "packageManager" must look like "pnpm@<exact version>" (got ${JSON.stringify(field)}).`);
  }
  return match[1];
}

/**
 * Set on every process this script starts; a nested run then skips the PATH probe and uses
 * npx. A `pnpm` on PATH that wraps this very script would otherwise start itself forever
 * (seen on this machine: hundreds of processes, load average 190).
 */
const NESTED = 'ONEX_WITH_PNPM_PROBE';

function probeVersion(command) {
  if (process.env[NESTED] === '1') return undefined;
  const probe = spawnSync(command, ['--version'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
    shell: isWindows,
    // A Corepack shim must not stop and ask whether it may download.
    env: { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', [NESTED]: '1' },
  });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * How to run the pinned pnpm here.
 * @returns {{ version: string, command: string, prefixArgs: string[], source: string, shell: boolean }}
 */
export function resolvePnpm(root = repoRoot) {
  const version = pinnedPnpmVersion(root);
  const onPath = probeVersion(isWindows ? 'pnpm.cmd' : 'pnpm');
  if (onPath === version) {
    return { version, command: isWindows ? 'pnpm.cmd' : 'pnpm', prefixArgs: [], source: 'PATH', shell: isWindows };
  }
  return {
    version,
    command: isWindows ? 'npx.cmd' : 'npx',
    prefixArgs: ['--yes', `pnpm@${version}`],
    source: onPath ? `npx (pnpm on PATH is ${onPath}, not ${version})` : 'npx (no pnpm on PATH)',
    shell: isWindows,
  };
}

function checkNode() {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    console.error(`with-pnpm: Node ${process.versions.node} is too old; this repository needs Node >= ${MIN_NODE.join('.')}.`);
    process.exit(1);
  }
}

function main(args) {
  checkNode();
  let pnpm;
  try {
    pnpm = resolvePnpm();
  } catch (error) {
    console.error(`with-pnpm: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.error(`with-pnpm: pnpm ${pnpm.version} via ${pnpm.source}: pnpm ${args.join(' ')}`);
  const child = spawn(pnpm.command, [...pnpm.prefixArgs, ...args], { stdio: 'inherit', shell: pnpm.shell, env: { ...process.env, [NESTED]: '1' } });
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (error) => {
    console.error(`with-pnpm: could not start ${pnpm.command}: ${error.message}. Is npm installed and on PATH?`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      console.error(`with-pnpm: pnpm was stopped by ${signal}.`);
      process.exit(128 + (constants.signals[signal] ?? 1));
    }
    process.exit(code ?? 1);
  });
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (invokedDirectly) main(process.argv.slice(2));
