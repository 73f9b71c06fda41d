#!/usr/bin/env node
// Packs every publishable package the way `pnpm publish` would and checks the tarballs
// from the outside: `workspace:` ranges are rewritten, every file the exports map / bin
// points at is inside, no sources leak, the npm metadata is complete, publint and
// arethetypeswrong (ESM-only profile: node16 and bundler resolution) find nothing, and a
// plain npm project can install @onex/core and @onex/spi and import them through their
// exports maps (and only through them). The whole publish → install path, through a real
// registry, is tooling/release/roundtrip.mjs.
//
//   pnpm build && node tooling/scripts/pack-smoke.mjs [--keep]
//
// --keep leaves the temporary folders in place for inspection.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { repoRoot, resolvePnpm } from './with-pnpm.mjs';

/** Publishable workspace packages, bottom layer first. `install` ones go into the npm project. */
const PACKAGES = [
  { dir: 'packages/core', install: true },
  { dir: 'packages/spi', install: true },
  { dir: 'packages/infra', install: false },
  { dir: 'apps/runtime-host', install: false },
];
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];
/** npm settings a user may legitimately pass down; every other npm_* variable is dropped. */
const NPM_ENV_KEEP = new Set(['registry', 'cache', 'userconfig', 'globalconfig', 'cafile', 'proxy', 'https_proxy', 'noproxy', 'strict_ssl']);

const keep = process.argv.includes('--keep');
const checked = [];

class SmokeFailure extends Error {}

function fail(message, output) {
  throw new SmokeFailure(output ? `${message}\n--- output ---\n${output.trim()}\n--------------` : message);
}

function pass(message) {
  checked.push(message);
  console.log(`  ok  ${message}`);
}

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  return { ...result, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The environment of a user running plain npm: nothing inherited from the pnpm/npm script runner. */
function plainNpmEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    const npmConfig = /^npm_config_(.+)$/i.exec(key);
    if (npmConfig) {
      if (NPM_ENV_KEEP.has(npmConfig[1].toLowerCase())) env[key] = value;
      continue;
    }
    if (/^(npm_|pnpm_)/i.test(key) || key === 'INIT_CWD' || key === 'NODE_PATH') continue;
    env[key] = value;
  }
  return env;
}

/** Every relative file path an exports map / main / types / bin entry points at. */
function entryFiles(manifest) {
  const files = new Set();
  const walk = (value) => {
    if (typeof value === 'string') {
      if (!value.includes('*')) files.add(value.replace(/^\.\//, ''));
    } else if (value && typeof value === 'object') {
      for (const nested of Object.values(value)) walk(nested);
    }
  };
  walk(manifest.exports);
  walk(manifest.main);
  walk(manifest.types);
  walk(typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : manifest.bin);
  return [...files];
}

function packAll(pnpm, packDir) {
  const tarballs = new Map();
  for (const pkg of PACKAGES) {
    const cwd = join(repoRoot, pkg.dir);
    const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    const missing = entryFiles(manifest).filter((file) => !file.endsWith('package.json') && !existsSync(join(cwd, file)));
    if (missing.length > 0) {
      fail(`${pkg.dir}: ${missing.join(', ')} missing; run \`pnpm build\` before the pack smoke test.`);
    }
    const destination = join(packDir, manifest.name.replace(/^@/, '').replace('/', '-'));
    mkdirSync(destination, { recursive: true });
    const packed = run(pnpm.command, [...pnpm.prefixArgs, 'pack', '--pack-destination', destination], { cwd, shell: pnpm.shell });
    if (packed.status !== 0) fail(`${pkg.dir}: \`pnpm pack\` failed (exit ${packed.status}).`, packed.output);
    const [tgz, ...extra] = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
    if (!tgz || extra.length > 0) fail(`${pkg.dir}: expected one tarball in ${destination}, found ${readdirSync(destination).join(', ') || 'none'}.`);
    const file = join(destination, tgz);
    tarballs.set(manifest.name, { ...pkg, file, manifest });
    pass(`packed ${manifest.name}@${manifest.version} -> ${tgz} (${(statSync(file).size / 1024).toFixed(1)} KiB)`);
  }
  return tarballs;
}

function inspectTarball({ file, manifest }) {
  const name = manifest.name;
  const listing = run('tar', ['-tzf', file]);
  if (listing.status !== 0) fail(`${name}: cannot list ${file} with tar.`, listing.output);
  const entries = listing.stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, ''));
  const packedJson = run('tar', ['-xOzf', file, 'package/package.json']);
  if (packedJson.status !== 0) fail(`${name}: no package/package.json in ${file}.`, packedJson.output);
  const packed = JSON.parse(packedJson.stdout);

  const workspaceRanges = DEP_FIELDS.flatMap((field) =>
    Object.entries(packed[field] ?? {}).filter(([, range]) => String(range).startsWith('workspace:')).map(([dep, range]) => `${field}.${dep}: ${range}`),
  );
  if (workspaceRanges.length > 0) fail(`${name}: the packed package.json still has workspace: ranges (${workspaceRanges.join(', ')}); publish with pnpm, not npm.`);
  const internal = Object.entries(packed.dependencies ?? {}).filter(([dep]) => dep.startsWith('@onex/'));
  pass(`${name}: no workspace: ranges${internal.length ? ` (${internal.map(([dep, range]) => `${dep}@${range}`).join(', ')})` : ''}`);

  const missing = entryFiles(packed).filter((entry) => !entries.includes(entry));
  if (missing.length > 0) fail(`${name}: the exports map / main / types / bin point at files missing from the tarball: ${missing.join(', ')}.`);
  pass(`${name}: all ${entryFiles(packed).length} entry files of exports/main/types/bin are in the tarball`);

  const leaked = entries.filter((entry) => /^(src|test)\//.test(entry) || entry.endsWith('.tsbuildinfo') || (/\.ts$/.test(entry) && !/\.d\.ts$/.test(entry)));
  if (leaked.length > 0) fail(`${name}: sources or build state leaked into the tarball: ${leaked.slice(0, 10).join(', ')}; check "files" in package.json.`);
  pass(`${name}: no src/, test/, .ts sources or .tsbuildinfo in ${entries.length} files`);

  checkMetadata(packed, entries);
}

/** The one repository fact: the root package.json's; each package adds its directory. */
const ROOT_REPOSITORY = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).repository;

/** What npm shows and needs, per the release issue: every field present and the README saying ESM only. */
function checkMetadata(packed, entries) {
  const name = packed.name;
  const dir = PACKAGES.find((pkg) => JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')).name === name)?.dir;
  const missing = ['description', 'license', 'engines', 'files', 'keywords', 'repository'].filter((field) => packed[field] === undefined || (Array.isArray(packed[field]) && packed[field].length === 0));
  if (missing.length > 0) fail(`${name}: package.json lacks ${missing.join(', ')}.`);
  if (packed.engines.node !== '>=20.19') fail(`${name}: engines.node is ${JSON.stringify(packed.engines.node)}, expected ">=20.19".`);
  if (packed.repository.url !== ROOT_REPOSITORY?.url || packed.repository.directory !== dir) {
    fail(`${name}: repository is ${JSON.stringify(packed.repository)}; expected the root's url ${JSON.stringify(ROOT_REPOSITORY?.url)} with directory ${JSON.stringify(dir)}.`);
  }
  if (!entries.includes('README.md')) fail(`${name}: no README.md in the tarball (npm shows it as the package page).`);
  pass(`${name}: description, license, engines >=20.19, files, keywords, repository (${dir}) and README.md`);
}

/** publint on the very tarball (strict: warnings fail too), and attw with the ESM-only profile. */
async function checkQuality({ file, manifest }) {
  const name = manifest.name;
  const bytes = readFileSync(file);
  const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: 'suggestion', strict: true });
  if (messages.length > 0) fail(`${name}: publint found ${messages.length} problem(s):\n${messages.map((m) => `  ${m.type} ${m.code}: ${formatMessage(m, pkg) ?? ''}`).join('\n')}`);
  pass(`${name}: publint (strict, suggestions included) finds nothing`);
  // ESM only: node10 and CommonJS require() are not supported (the READMEs say so); node16
  // from ESM and bundler resolution must resolve every entry point with its types.
  const attw = run(process.execPath, [join(repoRoot, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), file, '--profile', 'esm-only', '--format', 'json'], {});
  let report;
  try {
    report = JSON.parse(attw.stdout);
  } catch {
    fail(`${name}: arethetypeswrong did not print JSON (exit ${attw.status}).`, attw.output);
  }
  const problems = Object.values(report.analysis?.problems ?? {}).flat().filter((p) => p && !['node10', 'node16-cjs'].includes(p.resolutionKind));
  if (attw.status !== 0 || problems.length > 0) fail(`${name}: arethetypeswrong (esm-only) found problems: ${JSON.stringify(problems).slice(0, 1500)}`, attw.output.slice(0, 3000));
  pass(`${name}: arethetypeswrong (esm-only profile): types resolve under node16 (ESM) and bundler`);
}

const CONSUMER_CHECK = `
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as core from '@onex/core';
import * as spi from '@onex/spi';

const ok = (message) => console.log('  ok  ' + message);
const home = fileURLToPath(new URL('./node_modules/', import.meta.url));
process.on('uncaughtException', (error) => {
  console.log('  FAIL ' + (error && error.message ? error.message : String(error)));
  process.exit(1);
});

for (const name of ['@onex/core', '@onex/spi']) {
  const resolved = fileURLToPath(import.meta.resolve(name));
  assert.ok(resolved.startsWith(home), name + ' resolved to ' + resolved + ', not to the installed tarball');
}
ok('@onex/core and @onex/spi resolve to the installed tarballs');

assert.equal(typeof core.parseEnvelope, 'function', '@onex/core must export parseEnvelope()');
assert.equal(typeof core.validateTopic, 'function', '@onex/core must export validateTopic()');
ok('@onex/core exports parseEnvelope() and validateTopic() (' + Object.keys(core).length + ' exports in all)');

assert.equal(core.validateTopic('onex.acme.orders.cmd.v1').valid, true, "validateTopic('onex.acme.orders.cmd.v1') must be valid");
assert.equal(core.validateTopic('acme.orders').valid, false, "validateTopic('acme.orders') must be invalid");
ok("validateTopic('onex.acme.orders.cmd.v1').valid === true, validateTopic('acme.orders').valid === false");

const envelope = core.parseEnvelope(JSON.stringify({ operation: 'db.query', payload: { sql: 'select 1' } }));
assert.equal(envelope.operation, 'db.query', 'parseEnvelope must keep the operation');
ok("parseEnvelope('{\\"operation\\":\\"db.query\\",...}').operation === 'db.query'");

ok('@onex/spi imports as an ES module (' + Object.keys(spi).length + ' runtime exports; it is types only)');

for (const deep of ['@onex/core/dist/index.js', '@onex/core/internal/anything.js']) {
  let error;
  try {
    await import(deep);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, "import('" + deep + "') must be refused by the exports map, but it loaded");
  assert.equal(error.code, 'ERR_PACKAGE_PATH_NOT_EXPORTED', "import('" + deep + "') failed with " + error.code + ' instead of ERR_PACKAGE_PATH_NOT_EXPORTED');
  ok("import('" + deep + "') is refused: ERR_PACKAGE_PATH_NOT_EXPORTED");
}
`;

function consumerSmoke(tarballs, consumerDir) {
  const installs = [...tarballs.values()].filter((pkg) => pkg.install);
  writeFileSync(join(consumerDir, 'package.json'), `${JSON.stringify({ name: 'onex-pack-smoke-consumer', private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(join(consumerDir, 'check.mjs'), CONSUMER_CHECK);
  const env = plainNpmEnv();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...installs.map((pkg) => pkg.file)];
  const installed = run(npm, args, { cwd: consumerDir, env, shell: process.platform === 'win32' });
  if (installed.status !== 0) fail(`\`npm install\` of ${installs.map((pkg) => pkg.manifest.name).join(' + ')} into an empty npm project failed (exit ${installed.status}).`, installed.output);
  pass(`npm install ${installs.map((pkg) => relative(consumerDir, pkg.file)).join(' ')} into an empty npm project`);

  console.log('  ..  running check.mjs in the npm project');
  const checkedThere = spawnSync(process.execPath, ['check.mjs'], { cwd: consumerDir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(checkedThere.stdout ?? '');
  for (const line of (checkedThere.stdout ?? '').split('\n')) if (line.startsWith('  ok  ')) checked.push(line.slice(6));
  if (checkedThere.status !== 0) fail(`the consumer check (${join(consumerDir, 'check.mjs')}) failed (exit ${checkedThere.status ?? checkedThere.signal}); see FAIL above (--keep keeps the project).`);
}

async function main() {
  const started = Date.now();
  const pnpm = resolvePnpm();
  const workDir = mkdtempSync(join(tmpdir(), 'onex-pack-smoke-'));
  const packDir = join(workDir, 'tarballs');
  const consumerDir = join(workDir, 'consumer');
  mkdirSync(consumerDir, { recursive: true });
  console.log(`pack-smoke: pnpm ${pnpm.version} (${pnpm.source}), node ${process.version}, work dir ${workDir}`);
  try {
    const tarballs = packAll(pnpm, packDir);
    for (const tarball of tarballs.values()) inspectTarball(tarball);
    for (const tarball of tarballs.values()) await checkQuality(tarball);
    consumerSmoke(tarballs, consumerDir);
    console.log(`pack-smoke: passed ${checked.length} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    const message = error instanceof SmokeFailure ? error.message : (error instanceof Error ? error.stack : String(error));
    console.error(`pack-smoke: FAILED after ${checked.length} passing checks:\n${message}`);
    return 1;
  } finally {
    if (keep) console.log(`pack-smoke: kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
