// Lints deliberately bad files (test/fixtures/) as if they lived inside the packages, through
// the root eslint.config.js that `pnpm lint` uses, and expects each layer violation to be
// reported with its [layer:...] tag. Without this test a broken rule would fail silently.
import { readFileSync, readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { IO_MODULES } from '../layer-rules.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const fixturesDir = join(here, 'fixtures');
const LAYER_RULES = ['no-restricted-imports', 'no-restricted-properties', 'no-restricted-syntax', 'no-restricted-globals'];

/** Where a fixture pretends to live (none of these files exist), and the tag its layer reports. */
const at = {
  core: { path: 'packages/core/src/layer-fixture.ts', tag: 'core' },
  coreTest: { path: 'packages/core/test/layer-fixture.test.ts', tag: 'core' },
  spi: { path: 'packages/spi/src/layer-fixture.ts', tag: 'spi' },
  spiTest: { path: 'packages/spi/test/layer-fixture.test.ts', tag: 'spi' },
  infra: { path: 'packages/infra/src/layer-fixture.ts', tag: 'infra' },
  handler: { path: 'packages/infra/src/handlers/db/layer-fixture.ts', tag: 'infra' },
  infraTest: { path: 'packages/infra/test/layer-fixture.test.ts', tag: 'infra' },
  app: { path: 'apps/runtime-host/src/layer-fixture.ts', tag: 'app' },
  any: { path: 'bench/src/layer-fixture.ts', tag: 'any' },
} as const;
type Layer = keyof typeof at;

interface Violation {
  fixture: string;
  layer: Layer;
  rule: string;
  /** Text the message must contain besides the layer tag. */
  mentions?: string;
}

const violations: Violation[] = [
  { fixture: 'core-imports-pg.ts', layer: 'core', rule: 'no-restricted-imports', mentions: "'pg'" },
  { fixture: 'core-imports-node-fs.ts', layer: 'core', rule: 'no-restricted-imports', mentions: "'node:fs'" },
  { fixture: 'core-imports-node-fs-promises.ts', layer: 'core', rule: 'no-restricted-imports', mentions: "'node:fs/promises'" },
  { fixture: 'core-reads-process-env.ts', layer: 'core', rule: 'no-restricted-properties', mentions: 'process.env' },
  { fixture: 'core-dynamic-import-pg.ts', layer: 'core', rule: 'no-restricted-syntax', mentions: 'dynamic import' },
  { fixture: 'core-imports-spi.ts', layer: 'core', rule: 'no-restricted-imports', mentions: '@onex/spi' },
  // Tests may do I/O, but never point up the graph or read the environment unannounced.
  { fixture: 'core-imports-spi.ts', layer: 'coreTest', rule: 'no-restricted-imports', mentions: '@onex/spi' },
  { fixture: 'core-reads-process-env.ts', layer: 'coreTest', rule: 'no-restricted-properties', mentions: 'process.env' },
  { fixture: 'spi-imports-infra.ts', layer: 'spi', rule: 'no-restricted-imports', mentions: '@onex/infra' },
  { fixture: 'spi-imports-infra.ts', layer: 'spiTest', rule: 'no-restricted-imports', mentions: '@onex/infra' },
  { fixture: 'infra-deep-imports-core-src.ts', layer: 'infra', rule: 'no-restricted-imports', mentions: 'deep import' },
  { fixture: 'infra-relative-imports-core.ts', layer: 'infra', rule: 'no-restricted-imports', mentions: 'sibling package' },
  // Handlers (all of packages/*/src) never read the environment: the host hands them settings and secrets.
  { fixture: 'infra-reads-process-env.ts', layer: 'handler', rule: 'no-restricted-properties', mentions: 'process.env' },
  { fixture: 'infra-imports-process-env.ts', layer: 'handler', rule: 'no-restricted-imports', mentions: 'SecretResolver' },
  { fixture: 'infra-destructures-process-env.ts', layer: 'handler', rule: 'no-restricted-syntax', mentions: 'process.env' },
  { fixture: 'infra-reads-process-env.ts', layer: 'spi', rule: 'no-restricted-properties', mentions: 'process.env' },
  ...(['core', 'spi', 'infra', 'app', 'any'] as const).map((layer) => ({
    fixture: 'imports-runtime-host.ts',
    layer,
    rule: 'no-restricted-imports',
    mentions: '@onex/runtime-host',
  })),
];

const clean: { fixture: string; layer: Layer }[] = [
  { fixture: 'clean-core.ts', layer: 'core' },
  { fixture: 'infra-imports-pg.ts', layer: 'infra' },
  { fixture: 'clean-infra-handler.ts', layer: 'handler' },
  // Tests may read the environment (CI=true, server ports).
  { fixture: 'infra-reads-process-env.ts', layer: 'infraTest' },
  // A test may read fixtures or the build output; only shipped code (src/) is I/O-free.
  { fixture: 'core-imports-node-fs-promises.ts', layer: 'coreTest' },
  { fixture: 'core-imports-node-fs-promises.ts', layer: 'spiTest' },
];

/** console calls in shipped package code (each package src folder) are errors; tests and the app may print. */
const consoleUse: { fixture: string; layer: Layer; reported: boolean }[] = [
  { fixture: 'package-uses-console.ts', layer: 'core', reported: true },
  { fixture: 'package-uses-console.ts', layer: 'spi', reported: true },
  { fixture: 'package-uses-console.ts', layer: 'infra', reported: true },
  { fixture: 'package-uses-console.ts', layer: 'handler', reported: true },
  { fixture: 'package-uses-console.ts', layer: 'infraTest', reported: false },
  { fixture: 'package-uses-console.ts', layer: 'app', reported: false },
];

let eslint: ESLint;

beforeAll(async () => {
  eslint = new ESLint({ cwd: repoRoot, overrideConfigFile: join(repoRoot, 'eslint.config.js') });
  // Loading the flat config and the TypeScript parser takes seconds on a busy machine; pay it
  // here, under a generous limit, rather than inside the first test's 5 s budget.
  await eslint.lintText('export {};\n', { filePath: join(repoRoot, at.core.path) });
}, 120_000);

async function lint(code: string, layer: Layer): Promise<Linter.LintMessage[]> {
  const { path } = at[layer];
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
  if (!result) throw new Error(`ESLint returned no result for ${path}`);
  const fatal = result.messages.filter((message) => message.fatal);
  expect(fatal, `parse errors in the code linted as ${path}`).toEqual([]);
  return result.messages;
}

const lintFixture = (fixture: string, layer: Layer) => lint(readFileSync(join(fixturesDir, fixture), 'utf8'), layer);
const layerErrors = (messages: Linter.LintMessage[]) =>
  messages.filter((message) => LAYER_RULES.includes(message.ruleId ?? '') || message.message.includes('[layer:'));
const describeMessages = (messages: Linter.LintMessage[]) => messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`);

describe('layer rules', () => {
  it.each(violations)('reports $fixture linted as $layer with $rule', async ({ fixture, layer, rule, mentions }) => {
    const messages = await lintFixture(fixture, layer);
    const tag = `[layer:${at[layer].tag}]`;
    const hits = messages.filter((message) => message.ruleId === rule && message.severity === 2 && message.message.includes(tag));
    expect(hits, `expected a ${rule} error tagged ${tag}, got:\n${describeMessages(messages).join('\n')}`).not.toHaveLength(0);
    if (mentions) expect(hits.some((hit) => hit.message.includes(mentions)), `no message mentions ${mentions}`).toBe(true);
    // The bad line is the one reported, not the header comment.
    expect(hits.every((hit) => hit.line > 1)).toBe(true);
  });

  it.each(clean)('reports no layer error for $fixture linted as $layer', async ({ fixture, layer }) => {
    const messages = await lintFixture(fixture, layer);
    expect(describeMessages(layerErrors(messages))).toEqual([]);
  });

  it.each(consoleUse)('no-console on $fixture linted as $layer: reported $reported', async ({ fixture, layer, reported }) => {
    const hits = (await lintFixture(fixture, layer)).filter((m) => m.ruleId === 'no-console' && m.severity === 2);
    expect(hits.map((h) => h.line)).toEqual(reported ? [3] : []);
  });

  it('refuses every I/O module in core, with and without the node: prefix', async () => {
    const names = IO_MODULES.flatMap((name) => (isBuiltin(name) ? [name, `node:${name}`] : [name]));
    const code = names.map((name, index) => `import io${index} from '${name}';\nexport const use${index} = io${index};`).join('\n');
    const reported = new Set(
      (await lint(code, 'core'))
        .filter((message) => message.ruleId === 'no-restricted-imports' && message.message.includes('[layer:core]'))
        .map((message) => names[(message.line - 1) / 2]),
    );
    expect(names.filter((name) => !reported.has(name))).toEqual([]);
  });

  it('keeps every fixture in use and out of the normal lint run', async () => {
    const used = new Set([...violations, ...clean, ...consoleUse].map((entry) => entry.fixture));
    expect(readdirSync(fixturesDir).filter((file) => !used.has(file))).toEqual([]);
    for (const fixture of used) {
      expect(await eslint.isPathIgnored(join(fixturesDir, fixture)), `${fixture} must be ignored by pnpm lint`).toBe(true);
    }
  });
});
