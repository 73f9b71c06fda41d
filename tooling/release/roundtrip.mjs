#!/usr/bin/env node
// The release path the way a user meets it, end to end, against a real registry:
//
//   1. a scratch copy of the repository (with the built dist/ folders) becomes a git repo;
//   2. `changeset version` applies the pending changesets: versions, CHANGELOG.md files,
//      dependents bumped as .changeset/config.json promises; `changeset publish` publishes
//      with pnpm (workspace: ranges become real ones) to verdaccio on loopback and tags git;
//   3. in clean folders that have only Node and npm, the commands of the root README's
//      "Install" section run as written: `npm install @onex/core` imports; `npm install -g
//      @onex/runtime-host` (into a temp prefix) gives a binary that validates the quick
//      start, runs it with --dry-run, and then really serves an envelope; then
//      examples/custom-node/README.md runs as written in a clean copy of that example: its
//      own TypeScript nodes, built with npm against the released @onex/core, served by the
//      installed binary over the ingress and over Kafka (custom-node-example.mjs);
//   4. a breaking major of @onex/core is released; an install that forces it under the
//      previous @onex/runtime-host (npm `overrides`) is refused at start with exit code 3,
//      naming both versions and the range; the matching newer set starts;
//   5. a pre-release (`changeset pre enter next`) goes out on the `next` dist-tag while
//      `latest` stays put, then `changeset pre exit`.
//
//   node tooling/release/roundtrip.mjs [--keep]      (after `pnpm build`; part of `npm run verify`)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { repoRoot, resolvePnpm } from '../scripts/with-pnpm.mjs';
import { customNodeExample } from './custom-node-example.mjs';
import { startRegistry } from './registry.mjs';

/** The published packages, bottom layer first, with their folders. */
const PACKAGES = [
  { name: '@onex/core', dir: 'packages/core' },
  { name: '@onex/spi', dir: 'packages/spi' },
  { name: '@onex/infra', dir: 'packages/infra' },
  { name: '@onex/runtime-host', dir: 'apps/runtime-host' },
];
/** Exit code of a start-up failure (apps/runtime-host/src/exit-codes.ts, documented in its README). */
const EXIT_STARTUP_FAILED = 3;
const ORDER_ENVELOPE = { target_node: 'order_calculator', operation: 'order.calculate', payload: { items: [{ price: 9.5, quantity: 2 }], discount_percent: 10 } };

const keep = process.argv.includes('--keep');
const checked = [];
class RoundTripFailure extends Error {}

function fail(message, output) {
  throw new RoundTripFailure(output ? `${message}\n--- output ---\n${output.trim().slice(-6_000)}\n--------------` : message);
}
function pass(message) {
  checked.push(message);
  console.log(`  ok  ${message}`);
}

/** Runs a command to completion; fails the round trip on a non-zero exit unless `allowFail`. */
function run(command, args, { cwd, env, allowFail = false, label, timeoutMs = 300_000 } = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error?.code === 'ETIMEDOUT') fail(`${label ?? command} did not exit within ${timeoutMs / 1000} s (killed)`, output);
  if (result.error) fail(`${label ?? command}: could not run: ${result.error.message}`);
  if (!allowFail && result.status !== 0) fail(`${label ?? `${command} ${args.join(' ')}`} failed (exit ${result.status})`, output);
  return { status: result.status, stdout: result.stdout ?? '', output };
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const versionsIn = (root) => Object.fromEntries(PACKAGES.map((p) => [p.name, readJson(join(root, p.dir, 'package.json')).version]));

/**
 * The environment of a user with plain npm: nothing from the script runner that started us,
 * npm pointed at the test registry through a userconfig file (with a token for publishing),
 * global installs into `prefix`, whose bin folder comes first on PATH.
 */
function userEnv(registry, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) || key === 'INIT_CWD' || key === 'NODE_PATH' || key === 'ONEX_INGRESS_PORT') continue;
    env[key] = value;
  }
  return { ...env, npm_config_userconfig: registry.npmrc, npm_config_registry: registry.url, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** The repository's tracked (and new, not ignored) files plus each package's dist/, as a fresh git repo. */
function scratchCopy(target) {
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, label: 'git ls-files' }).stdout.split('\0').filter(Boolean);
  for (const file of listed) {
    const from = join(repoRoot, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(from, join(target, file));
  }
  for (const p of PACKAGES) {
    const dist = join(repoRoot, p.dir, 'dist');
    if (!existsSync(dist)) fail(`${p.dir}/dist is missing: build before the release round trip (pnpm build).`);
    cpSync(dist, join(target, p.dir, 'dist'), { recursive: true });
  }
  const git = (...args) => run('git', ['-c', 'user.name=ONEX release test', '-c', 'user.email=release-test@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: target, label: `git ${args[0]}` });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'scratch copy for the release round trip');
  pass(`scratch copy of the repository: ${listed.length} files + 4 dist folders, committed in a fresh git repo`);
  return git;
}

/** The bump each package gets from the pending changeset files (the largest one named). */
function pendingBumps(root) {
  const rank = { patch: 1, minor: 2, major: 3 };
  const bumps = {};
  const summaries = [];
  for (const file of readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const text = readFileSync(join(root, '.changeset', file), 'utf8');
    const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
    if (!match) fail(`.changeset/${file} has no front matter`);
    for (const [name, bump] of Object.entries(parseYaml(match[1]) ?? {})) {
      if ((rank[bump] ?? 0) > (rank[bumps[name]] ?? 0)) bumps[name] = bump;
    }
    summaries.push(match[2].trim().split('\n')[0]);
  }
  return { bumps, summaries };
}

/** Runs the changesets CLI of the repository in the scratch copy. */
function changeset(scratch, env, ...args) {
  return run(process.execPath, [join(repoRoot, 'node_modules', '@changesets', 'cli', 'bin.js'), ...args], { cwd: scratch, env, label: `changeset ${args.join(' ')}` });
}

/** What the registry says of one published version. */
function view(env, spec, field) {
  const out = run('npm', ['view', spec, field, '--json'], { env, label: `npm view ${spec} ${field}` }).stdout.trim();
  return out === '' ? undefined : JSON.parse(out);
}

/** Checks that every published manifest's @onex ranges are real ranges that admit the versions released with it. */
function checkPublished(env, versions) {
  for (const p of PACKAGES) {
    const deps = view(env, `${p.name}@${versions[p.name]}`, 'dependencies') ?? {};
    for (const [dep, range] of Object.entries(deps).filter(([d]) => d.startsWith('@onex/'))) {
      if (String(range).startsWith('workspace:')) fail(`${p.name}@${versions[p.name]} was published with ${dep}: ${range}`);
      if (!semver.satisfies(versions[dep], range, { includePrerelease: true })) fail(`${p.name}@${versions[p.name]} requires ${dep}@${range}, which the released ${versions[dep]} does not satisfy`);
    }
  }
  pass(`the registry serves ${PACKAGES.map((p) => `${p.name}@${versions[p.name]}`).join(', ')}, with real @onex ranges that admit each other`);
}

/** A release: `changeset version`, the checks on what it wrote, a commit, `changeset publish`. */
function release(scratch, git, env, { label, expect }) {
  const before = versionsIn(scratch);
  const { summaries } = pendingBumps(scratch);
  changeset(scratch, env, 'version');
  // What `pnpm version-packages` runs next: the examples outside the workspace follow the new versions.
  run(process.execPath, [join(scratch, 'tooling', 'release', 'sync-example-ranges.mjs')], { cwd: scratch, env, label: `${label}: sync-example-ranges` });
  const after = versionsIn(scratch);
  for (const p of PACKAGES) {
    const wanted = expect(p.name, before[p.name]);
    if (after[p.name] !== wanted) fail(`${label}: changeset version made ${p.name} ${before[p.name]} → ${after[p.name]}, expected ${wanted}`);
    const changelog = readFileSync(join(scratch, p.dir, 'CHANGELOG.md'), 'utf8');
    if (!changelog.includes(`## ${after[p.name]}`)) fail(`${label}: ${p.dir}/CHANGELOG.md has no "## ${after[p.name]}" section`);
    const manifest = readJson(join(scratch, p.dir, 'package.json'));
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {}).filter(([d]) => d.startsWith('@onex/'))) {
      // `workspace:^` (`~`, `*`) is "this version" by definition: pnpm writes `^<version>` on publish.
      const required = String(range).replace(/^workspace:/, '');
      if (['^', '~', '*'].includes(required)) continue;
      if (!semver.satisfies(after[dep], required, { includePrerelease: true })) fail(`${label}: ${p.name} depends on ${dep}@${range}, which ${after[dep]} does not satisfy`);
    }
  }
  const texts = PACKAGES.map((p) => readFileSync(join(scratch, p.dir, 'CHANGELOG.md'), 'utf8')).join('\n');
  const missing = summaries.filter((s) => !texts.includes(s.slice(0, 60)));
  if (missing.length > 0) fail(`${label}: these changeset summaries are in no CHANGELOG.md: ${missing.join(' | ')}`);
  pass(`${label}: changeset version → ${PACKAGES.map((p) => `${p.name} ${before[p.name]} → ${after[p.name]}`).join(', ')}; ${summaries.length} changeset(s) in the changelogs`);
  git('add', '-A');
  git('commit', '-qm', `release: ${label}`);
  changeset(scratch, env, 'publish');
  const tags = run('git', ['tag', '--list'], { cwd: scratch }).stdout.split('\n');
  const untagged = PACKAGES.filter((p) => !tags.includes(`${p.name}@${after[p.name]}`));
  if (untagged.length > 0) fail(`${label}: changeset publish made no git tag for ${untagged.map((p) => `${p.name}@${after[p.name]}`).join(', ')}`);
  pass(`${label}: changeset publish → registry, git tags ${PACKAGES.map((p) => `${p.name}@${after[p.name]}`).join(', ')}`);
  checkPublished(env, after);
  return after;
}

/** The shell commands of the README's "Install" section, one per line. */
function readmeInstallCommands() {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = /\n## Install\n([\s\S]*?)\n## /.exec(readme)?.[1];
  const block = section && /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!block) fail('README.md has no "## Install" section with a ```sh block');
  return block.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Starts `onex-runtime-host run ...` in `cwd`, waits for its ready line, and returns its URL
 * and a stop() that sends SIGTERM and resolves with the exit code.
 */
async function startHost(command, args, { cwd, env }) {
  const child = spawn(command, args, { cwd, env: { ...env, ONEX_INGRESS_PORT: '0', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RoundTripFailure(`no ready line within 60 s from ${command} ${args.join(' ')}\n${output.slice(-3_000)}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const ready = /ready: \S+ listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new RoundTripFailure(`${command} ${args.join(' ')} exited (${code}) before it was ready\n${output.slice(-3_000)}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** One envelope through the ingress of a running host: the quick start's order calculation. */
async function serveOne(url) {
  const res = await fetch(`${url}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER_ENVELOPE) });
  const body = await res.json();
  if (res.status !== 200 || body.success !== true) fail(`POST ${url}/v1/envelopes answered ${res.status}: ${JSON.stringify(body).slice(0, 800)}`);
  return body;
}

/** A clean folder with the quick-start contract, as a user who copied examples/quickstart has. */
function quickstartCopy(dir) {
  cpSync(join(repoRoot, 'examples', 'quickstart'), dir, { recursive: true, filter: (src) => !src.endsWith('demo.mjs') });
  return dir;
}

/** Step 3: the README's install commands in clean folders, then one envelope served by the installed binary. */
async function installAsAUser(work, registry, released) {
  const prefix = join(work, 'global');
  mkdirSync(prefix, { recursive: true });
  const env = userEnv(registry, { npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH ?? ''}` });
  const app = quickstartCopy(join(work, 'user'));
  const commands = readmeInstallCommands();
  let serving;
  for (const line of commands) {
    if (/^onex-runtime-host run (?!.*--dry-run)/.test(line)) {
      // The long-running one: started, used, stopped.
      const [, ...args] = line.split(/\s+/);
      const host = await startHost(join(prefix, 'bin', 'onex-runtime-host'), args, { cwd: app, env });
      try {
        serving = await serveOne(host.url);
      } finally {
        const code = await host.stop();
        if (code !== 0) fail(`\`${line}\` exited ${code} after SIGTERM, expected 0`, host.output());
      }
      pass(`README: \`${line}\` served ${ORDER_ENVELOPE.operation} (total ${JSON.stringify(serving.payload?.result?.total ?? serving.payload)}) and exited 0 on SIGTERM`);
      continue;
    }
    run('bash', ['-c', line], { cwd: app, env, label: `README: ${line}` });
    pass(`README: \`${line}\``);
  }
  if (serving === undefined) fail('the README install section never runs the host (`onex-runtime-host run <contract>`)');
  // What the commands installed is what was released.
  const core = readJson(join(app, 'node_modules', '@onex', 'core', 'package.json')).version;
  if (core !== released['@onex/core']) fail(`npm install @onex/core installed ${core}, not the released ${released['@onex/core']}`);
  const imported = run(process.execPath, ['--input-type=module', '-e', "const c = await import('@onex/core'); const e = c.parseEnvelope(JSON.stringify({ operation: 'db.query', payload: {} })); console.log(e.operation, typeof c.NodeRuntime)"], { cwd: app, env, label: 'import @onex/core' });
  if (imported.stdout.trim() !== 'db.query function') fail(`import('@onex/core') in the user's project printed ${JSON.stringify(imported.stdout.trim())}`);
  const host = readJson(join(prefix, 'lib', 'node_modules', '@onex', 'runtime-host', 'package.json')).version;
  if (host !== released['@onex/runtime-host']) fail(`npm install -g installed @onex/runtime-host ${host}, not ${released['@onex/runtime-host']}`);
  pass(`the user's project imports @onex/core ${core} (parseEnvelope, NodeRuntime); the global binary is @onex/runtime-host ${host}`);
  return { env, prefix };
}

/** Step 4: a forced mismatch is refused with exit code 3; the matching newer set starts. */
async function versionMismatch(work, registry, previous, current) {
  const env = userEnv(registry);
  const mismatched = quickstartCopy(join(work, 'mismatch'));
  writeFileSync(
    join(mismatched, 'package.json'),
    // The previous release's infra (built against core 0.x) forced next to the new core 1.0.
    // Without pinning infra too, npm would pick the newest infra in the range, which the
    // major release bumped to require core 1.x: a consistent set.
    `${JSON.stringify(
      {
        name: 'onex-mismatch',
        private: true,
        dependencies: { '@onex/runtime-host': previous['@onex/runtime-host'] },
        overrides: { '@onex/core': current['@onex/core'], '@onex/infra': previous['@onex/infra'], '@onex/spi': previous['@onex/spi'] },
      },
      null,
      2,
    )}\n`,
  );
  run('npm', ['install'], { cwd: mismatched, env, label: 'npm install (mismatched set)' });
  const installedCore = readJson(join(mismatched, 'node_modules', '@onex', 'core', 'package.json')).version;
  const infra = readJson(join(mismatched, 'node_modules', '@onex', 'infra', 'package.json'));
  if (installedCore !== current['@onex/core'] || infra.version !== previous['@onex/infra']) fail(`the overrides did not force @onex/core ${current['@onex/core']} next to @onex/infra ${previous['@onex/infra']} (got ${installedCore} and ${infra.version})`);
  // A host that wrongly starts would run until killed: 60 s is far beyond a refusal.
  const refused = run(join(mismatched, 'node_modules', '.bin', 'onex-runtime-host'), ['run', 'runtime-host.yaml'], { cwd: mismatched, env: { ...env, ONEX_INGRESS_PORT: '0' }, allowFail: true, timeoutMs: 60_000, label: 'the mismatched binary' });
  const range = infra.dependencies['@onex/core'];
  if (refused.status !== EXIT_STARTUP_FAILED) fail(`@onex/runtime-host ${previous['@onex/runtime-host']} with @onex/core ${installedCore} exited ${refused.status}, expected ${EXIT_STARTUP_FAILED}`, refused.output);
  for (const needle of [`@onex/core ${installedCore}`, range, `@onex/infra ${infra.version}`]) {
    if (!refused.output.includes(needle)) fail(`the refusal does not name ${JSON.stringify(needle)}`, refused.output);
  }
  pass(`mismatch (@onex/infra ${infra.version} needs @onex/core ${range}, overrides force ${installedCore}): the binary refuses with exit ${EXIT_STARTUP_FAILED}, naming both versions and the range`);

  const matching = quickstartCopy(join(work, 'matching'));
  writeFileSync(join(matching, 'package.json'), `${JSON.stringify({ name: 'onex-matching', private: true, dependencies: { '@onex/runtime-host': current['@onex/runtime-host'] } }, null, 2)}\n`);
  run('npm', ['install'], { cwd: matching, env, label: 'npm install (matching set)' });
  const host = await startHost(join(matching, 'node_modules', '.bin', 'onex-runtime-host'), ['run', 'runtime-host.yaml'], { cwd: matching, env });
  try {
    await serveOne(host.url);
  } finally {
    const code = await host.stop();
    if (code !== 0) fail(`the matching set exited ${code} after SIGTERM`, host.output());
  }
  pass(`matching set (@onex/runtime-host ${current['@onex/runtime-host']}, @onex/core ${current['@onex/core']}) starts, serves an envelope and exits 0`);
}

/** Step 5: a pre-release on the `next` dist-tag; `latest` does not move. */
function preRelease(work, scratch, git, env, registry, stable) {
  changeset(scratch, env, 'pre', 'enter', 'next');
  writeFileSync(join(scratch, '.changeset', 'release-test-next.md'), '---\n"@onex/core": patch\n---\n\nRelease test: a pre-release of a core fix.\n');
  const versions = release(scratch, git, env, {
    label: 'pre-release (next)',
    // A patch of core, and a patch of each dependent: all as next.0 pre-releases.
    expect: (_name, before) => `${semver.inc(before, 'patch')}-next.0`,
  });
  const tags = view(env, '@onex/core', 'dist-tags');
  if (tags.next !== versions['@onex/core'] || tags.latest !== stable['@onex/core']) fail(`dist-tags of @onex/core are ${JSON.stringify(tags)}; expected next ${versions['@onex/core']} and latest ${stable['@onex/core']}`);
  const user = join(work, 'next-user');
  mkdirSync(user, { recursive: true });
  run('npm', ['install', '@onex/core@next'], { cwd: user, env: userEnv(registry), label: 'npm install @onex/core@next' });
  const got = readJson(join(user, 'node_modules', '@onex', 'core', 'package.json')).version;
  if (got !== versions['@onex/core']) fail(`npm install @onex/core@next gave ${got}`);
  changeset(scratch, env, 'pre', 'exit');
  const pre = readJson(join(scratch, '.changeset', 'pre.json'));
  if (pre.mode !== 'exit') fail(`after changeset pre exit, .changeset/pre.json mode is ${pre.mode}`);
  pass(`pre-release: dist-tags next ${tags.next}, latest ${tags.latest}; npm install @onex/core@next gets ${got}; changeset pre exit`);
}

async function main() {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'onex-release-'));
  console.log(`release round trip: node ${process.version}, pnpm ${resolvePnpm().version}, work dir ${work}`);
  let registry;
  try {
    registry = await startRegistry({ dir: join(work, 'registry') });
    pass(`verdaccio on ${registry.url}, uplink: npm's configured registry`);
    // changesets runs `pnpm publish`: the pinned pnpm (as with-pnpm resolves it) on PATH.
    const pnpm = resolvePnpm();
    const shims = join(work, 'bin');
    mkdirSync(shims);
    const quoted = [pnpm.command, ...pnpm.prefixArgs].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    writeFileSync(join(shims, 'pnpm'), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
    // changeset publish tags with `git tag -m`: an identity even where git has none configured.
    const identity = { GIT_AUTHOR_NAME: 'ONEX release test', GIT_AUTHOR_EMAIL: 'release-test@localhost', GIT_COMMITTER_NAME: 'ONEX release test', GIT_COMMITTER_EMAIL: 'release-test@localhost' };
    const env = userEnv(registry, { PATH: `${shims}${delimiter}${process.env.PATH ?? ''}`, ...identity });

    const scratch = join(work, 'repo');
    const git = scratchCopy(scratch);
    // As a release job does: pnpm links the workspace packages, which `pnpm publish` needs to
    // turn `workspace:` ranges into versions. From the local store; no lifecycle scripts.
    run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--ignore-scripts'], { cwd: scratch, env, label: 'pnpm install (scratch copy)' });
    pass('pnpm install --frozen-lockfile in the scratch copy');
    if (Object.keys(pendingBumps(scratch).bumps).length === 0) {
      // Right after a real release nothing is pending: the path is still exercised, with a patch of every package.
      writeFileSync(join(scratch, '.changeset', 'release-test-patch.md'), `---\n${PACKAGES.map((p) => `"${p.name}": patch`).join('\n')}\n---\n\nRelease test: a patch of every package.\n`);
      pass('no pending changesets in the repository: the scratch copy releases a test patch of every package');
    }
    const { bumps } = pendingBumps(scratch);
    // updateInternalDependencies "patch": a package without a changeset of its own gets a
    // patch when a dependency it ranges on is bumped.
    const first = release(scratch, git, env, { label: 'release', expect: (name, before) => semver.inc(before, bumps[name] ?? 'patch') });

    const user = await installAsAUser(work, registry, first);
    // From the released scratch copy: its example carries the ranges the release gave it.
    await customNodeExample({ work, tree: scratch, env: user.env, prefix: user.prefix, released: first, fail, pass });

    writeFileSync(join(scratch, '.changeset', 'release-test-major.md'), '---\n"@onex/core": major\n---\n\nRelease test: a breaking change of the envelope API.\n');
    const second = release(scratch, git, env, {
      label: 'breaking major of @onex/core',
      expect: (name, before) => (name === '@onex/core' ? semver.inc(before, 'major') : semver.inc(before, 'patch')),
    });
    await versionMismatch(work, registry, first, second);

    preRelease(work, scratch, git, env, registry, second);
    console.log(`release round trip: passed ${checked.length} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    const message = error instanceof RoundTripFailure ? error.message : error instanceof Error ? error.stack : String(error);
    console.error(`release round trip: FAILED after ${checked.length} passing checks:\n${message}`);
    if (registry) console.error(`--- verdaccio (last lines) ---\n${registry.log().slice(-2_000)}`);
    return 1;
  } finally {
    await registry?.stop();
    if (keep) console.log(`release round trip: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
