// The flat ESLint config lives in tooling/eslint; this file only points ESLint at it.
export { default } from './tooling/eslint/index.js';
