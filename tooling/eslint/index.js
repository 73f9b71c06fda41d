// Shared flat ESLint config for every package in the monorepo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerRules } from './layer-rules.js';

export { layerRules, IO_MODULES } from './layer-rules.js';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'tooling/eslint/test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', Buffer: 'readonly', performance: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...layerRules,
  {
    // Library code logs through the host's pino logger (JSON, runtime_id, redaction); a
    // console line bypasses all three. Tests, tooling, bench and the app's CLI output may print.
    files: ['packages/*/src/**/*.{ts,mts,cts,tsx,js,mjs,cjs}'],
    rules: { 'no-console': 'error' },
  },
);
