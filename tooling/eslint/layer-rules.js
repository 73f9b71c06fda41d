// The import boundary of the monorepo: apps -> infra -> spi -> core, never back up and
// never sideways. Each rule message starts with the layer it protects, so a failing
// `pnpm lint` says which rule was broken and what to do instead.

/** Driver and I/O modules that only @onex/infra (and the app) may touch. */
export const IO_MODULES = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns',
  'tls', 'cluster', 'worker_threads', 'os', 'readline', 'process',
  'pg', 'pg-pool', 'kafkajs', 'undici', 'pino', 'node-vault', 'consul', 'prom-client',
  '@electric-sql/pglite',
];

const ioPaths = (layer, hint) =>
  IO_MODULES.flatMap((name) => {
    const message = `[layer:${layer}] '${name}' is an I/O module; ${hint}`;
    return name.includes('/') || name.startsWith('@') || !isNodeBuiltin(name)
      ? [{ name, message }]
      : [{ name, message }, { name: `node:${name}`, message }];
  });

function isNodeBuiltin(name) {
  return ['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns',
    'tls', 'cluster', 'worker_threads', 'os', 'readline', 'process'].includes(name);
}

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

/** Flat-config blocks, one per layer. */
export const layerRules = [
  {
    files: ['packages/core/**/*.ts'],
    rules: {
      ...restrict('core', [
        { name: '@onex/spi', message: '[layer:core] @onex/core must not import @onex/spi: core is the bottom layer (infra -> spi -> core).' },
        { name: '@onex/infra', message: '[layer:core] @onex/core must not import @onex/infra: core is the bottom layer (infra -> spi -> core).' },
        ...ioPaths('core', '@onex/core is pure (zero I/O): move this code to @onex/infra or inject it through an interface.'),
      ], [
        { regex: '^@onex/(spi|infra)/', message: '[layer:core] @onex/core must not import @onex/spi or @onex/infra (infra -> spi -> core).' },
      ]),
      'no-restricted-properties': ['error',
        { object: 'process', property: 'env', message: '[layer:core] @onex/core reads no process.env: the app parses configuration and passes it in.' },
      ],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: '[layer:core] @onex/core owns no timers: take a scheduler/clock from the caller.' },
        { name: 'setInterval', message: '[layer:core] @onex/core owns no timers: take a scheduler/clock from the caller.' },
        { name: 'fetch', message: '[layer:core] @onex/core does no I/O: use a protocol handler in @onex/infra.' },
      ],
    },
  },
  {
    files: ['packages/spi/**/*.ts'],
    rules: restrict('spi', [
      { name: '@onex/infra', message: '[layer:spi] @onex/spi must not import @onex/infra: spi declares interfaces that infra implements (infra -> spi -> core).' },
      ...ioPaths('spi', '@onex/spi holds interfaces only; implementations belong in @onex/infra.'),
    ], [
      { regex: '^@onex/infra/', message: '[layer:spi] @onex/spi must not import @onex/infra (infra -> spi -> core).' },
    ]),
  },
  {
    files: ['packages/infra/**/*.ts'],
    rules: restrict('infra', []),
  },
  {
    files: ['apps/**/*.ts'],
    rules: restrict('app', []),
  },
];
