// The import boundary of the monorepo: apps -> infra -> spi -> core, never back up and
// never sideways. Each rule message starts with the layer it protects, so a failing
// `pnpm lint` says which rule was broken and what to do instead.
// tooling/eslint/test/layer-rules.test.ts lints deliberately bad files against these rules.

/** Node built-ins that do I/O or own process state; restricted with and without `node:`. */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns',
  'dns/promises', 'tls', 'cluster', 'worker_threads', 'os', 'readline', 'readline/promises',
  'process',
];

/** Driver and I/O modules that only @onex/infra (and the app) may touch. */
export const IO_MODULES = [
  ...IO_BUILTINS,
  'pg', 'pg-pool', 'kafkajs', 'undici', 'pino', 'node-vault', 'consul', 'prom-client',
  '@electric-sql/pglite',
];

/** Every file type a package may hold; a `.mjs` must not slip past the rules of its layer. */
const SOURCES = '**/*.{ts,mts,cts,tsx,js,mjs,cjs}';

const ioPaths = (layer, hint) =>
  IO_MODULES.flatMap((name) => {
    const message = `[layer:${layer}] '${name}' is an I/O module; ${hint}`;
    return IO_BUILTINS.includes(name) ? [{ name, message }, { name: `node:${name}`, message }] : [{ name, message }];
  });

/** Deep imports into another package's sources or build output bypass its exports map. */
const deepImportPatterns = (layer) => [
  {
    regex: '^@onex/[^/]+/(src|dist)(/|$)',
    message: `[layer:${layer}] deep import into another package's src/ or dist/; import the package name (its exports map) instead.`,
  },
  {
    regex: '^(\\.\\./)+(packages|apps)/',
    message: `[layer:${layer}] relative import across package folders; import the package name instead.`,
  },
  {
    regex: '^(\\.\\./){2,}(core|spi|infra|runtime-host)/(src|dist)(/|$)',
    message: `[layer:${layer}] relative import into a sibling package; import the package name instead.`,
  },
  {
    regex: '^@onex/runtime-host(/|$)',
    message: `[layer:${layer}] nothing may import apps/*: the app is the composition root, not a library.`,
  },
];

const restrict = (layer, paths, extraPatterns = []) => ({
  'no-restricted-imports': [
    'error',
    { paths, patterns: [...extraPatterns, ...deepImportPatterns(layer)] },
  ],
});

// esquery regex literals cannot contain '/', so every special character (and '/') becomes '.'.
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '.');

/**
 * `import('pg')` is not an import declaration, so no-restricted-imports misses it; this
 * catches dynamic imports of the same names (string or template literal without holes).
 */
const dynamicImports = (layer, names, hint) => {
  const alternatives = names.map(escapeRegex).join('|');
  const regex = `/^(node:)?(${alternatives})([^\\w.-]|$)/`;
  const message = `[layer:${layer}] dynamic import of a module this layer may not use; ${hint}`;
  return [
    { selector: `ImportExpression > Literal.source[value=${regex}]`, message },
    { selector: `ImportExpression > TemplateLiteral.source[expressions.length=0] > TemplateElement[value.cooked=${regex}]`, message },
  ];
};

const CORE_HINT = '@onex/core is pure (zero I/O): move this code to @onex/infra or inject it through an interface.';
const SPI_HINT = '@onex/spi holds interfaces only; implementations belong in @onex/infra.';
const PROCESS_ENV = '[layer:core] @onex/core reads no process.env: the app parses configuration and passes it in.';

/**
 * No library code reads the environment: the app's composition root does, once
 * (apps/runtime-host/src/app-config.ts, called from cli.ts with process.env), and passes
 * it down; secrets come through the SecretResolver (EnvSecretSource reads the record it
 * is given), handler settings through the HandlerConfigResolver. Tests may read it.
 */
const envMessage = (layer) =>
  `[layer:${layer}] no process.env in packages/*/src: take configuration from the caller (the app reads the environment once), secrets from the SecretResolver, handler settings from the HandlerConfigResolver.`;
/** `globalThis.process.env` and `const { env } = process`, which no-restricted-properties misses. */
const envSyntax = (layer) => [
  { selector: "MemberExpression[object.type='MemberExpression'][object.property.name='process'][property.name='env']", message: envMessage(layer) },
  { selector: "VariableDeclarator[init.type='Identifier'][init.name='process'] > ObjectPattern > Property[key.name='env']", message: envMessage(layer) },
];
/** `import { env } from 'node:process'` (and the default import, which is the whole process). */
const envImports = (layer) => ['process', 'node:process'].map((name) => ({ name, importNames: ['env', 'default'], message: envMessage(layer) }));

const coreUp = [
  { name: '@onex/spi', message: '[layer:core] @onex/core must not import @onex/spi: core is the bottom layer (infra -> spi -> core).' },
  { name: '@onex/infra', message: '[layer:core] @onex/core must not import @onex/infra: core is the bottom layer (infra -> spi -> core).' },
];
const coreUpPatterns = [
  { regex: '^@onex/(spi|infra)/', message: '[layer:core] @onex/core must not import @onex/spi or @onex/infra (infra -> spi -> core).' },
];
const coreEnv = {
  selector: "MemberExpression[object.type='MemberExpression'][object.property.name='process'][property.name='env']",
  message: PROCESS_ENV,
};
const spiUp = [
  { name: '@onex/infra', message: '[layer:spi] @onex/spi must not import @onex/infra: spi declares interfaces that infra implements (infra -> spi -> core).' },
];
const spiUpPatterns = [
  { regex: '^@onex/infra/', message: '[layer:spi] @onex/spi must not import @onex/infra (infra -> spi -> core).' },
];

/**
 * Flat-config blocks; for a file matched by several, the last block's options of a rule win.
 * The direction of the graph holds for every file of a package, tests included; the
 * zero-I/O rules of core and spi hold for `src/`, what ships (a test may read a fixture or
 * the build output, as spi's test of its empty JavaScript does).
 */
export const layerRules = [
  {
    // Packages outside the layers (bench, examples, tooling) still may not reach into apps/*
    // or into another package's src/ and dist/.
    files: [SOURCES],
    rules: restrict('any', []),
  },
  {
    files: [`packages/core/${SOURCES}`],
    rules: {
      ...restrict('core', coreUp, coreUpPatterns),
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: PROCESS_ENV }],
      'no-restricted-syntax': ['error', ...dynamicImports('core', ['@onex/spi', '@onex/infra', '@onex/runtime-host'], CORE_HINT), coreEnv],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: '[layer:core] @onex/core owns no timers: take a scheduler/clock from the caller.' },
        { name: 'setInterval', message: '[layer:core] @onex/core owns no timers: take a scheduler/clock from the caller.' },
        { name: 'fetch', message: '[layer:core] @onex/core does no I/O: use a protocol handler in @onex/infra.' },
      ],
    },
  },
  {
    files: [`packages/core/src/${SOURCES}`],
    rules: {
      ...restrict('core', [...coreUp, ...ioPaths('core', CORE_HINT)], coreUpPatterns),
      'no-restricted-syntax': ['error', ...dynamicImports('core', ['@onex/spi', '@onex/infra', '@onex/runtime-host', ...IO_MODULES], CORE_HINT), coreEnv],
    },
  },
  {
    files: [`packages/spi/${SOURCES}`],
    rules: {
      ...restrict('spi', spiUp, spiUpPatterns),
      'no-restricted-syntax': ['error', ...dynamicImports('spi', ['@onex/infra', '@onex/runtime-host'], SPI_HINT)],
    },
  },
  {
    files: [`packages/spi/src/${SOURCES}`],
    rules: {
      ...restrict('spi', [...spiUp, ...ioPaths('spi', SPI_HINT)], spiUpPatterns),
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: envMessage('spi') }],
      'no-restricted-syntax': ['error', ...dynamicImports('spi', ['@onex/infra', '@onex/runtime-host', ...IO_MODULES], SPI_HINT), ...envSyntax('spi')],
    },
  },
  {
    files: [`packages/infra/${SOURCES}`],
    rules: restrict('infra', []),
  },
  {
    // Handlers above all: a handler gets its settings and secrets from the host, never
    // from the environment. No file in infra/src reads it (EnvSecretSource reads the
    // record it is handed).
    files: [`packages/infra/src/${SOURCES}`],
    rules: {
      ...restrict('infra', envImports('infra')),
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: envMessage('infra') }],
      'no-restricted-syntax': ['error', ...envSyntax('infra')],
    },
  },
  {
    files: [`apps/${SOURCES}`],
    rules: restrict('app', []),
  },
];
