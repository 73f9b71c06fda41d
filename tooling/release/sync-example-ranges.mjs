#!/usr/bin/env node
// After `changeset version`: the examples that are projects of their own (not workspace
// packages, so changesets does not touch them) depend on the @onex packages by a caret range
// of the version being released. Without this a user copying examples/custom-node after a
// minor release would install a core older than the docs it follows.
//
//   node tooling/release/sync-example-ranges.mjs [--check]
//
// --check changes nothing and exits 1 when a range does not admit the workspace version.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { repoRoot } from '../scripts/with-pnpm.mjs';

const EXAMPLES = ['examples/custom-node'];
const WORKSPACE = { '@onex/core': 'packages/core', '@onex/spi': 'packages/spi', '@onex/infra': 'packages/infra', '@onex/runtime-host': 'apps/runtime-host' };
const check = process.argv.includes('--check');

const read = (file) => JSON.parse(readFileSync(join(repoRoot, file), 'utf8'));
let stale = 0;
for (const example of EXAMPLES) {
  const file = join(example, 'package.json');
  const manifest = read(file);
  let changed = false;
  for (const field of ['dependencies', 'devDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      const dir = WORKSPACE[name];
      if (dir === undefined) continue;
      const version = read(join(dir, 'package.json')).version;
      if (semver.satisfies(version, range)) continue;
      if (check) {
        console.error(`${file}: ${name} ${range} does not admit the workspace's ${version}; run node tooling/release/sync-example-ranges.mjs`);
        stale += 1;
      } else {
        manifest[field][name] = `^${version}`;
        changed = true;
        console.log(`${file}: ${name} ${range} → ^${version}`);
      }
    }
  }
  if (changed) writeFileSync(join(repoRoot, file), `${JSON.stringify(manifest, null, 2)}\n`);
}
process.exitCode = stale > 0 ? 1 : 0;
