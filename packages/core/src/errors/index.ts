export * from './codes.js';
export * from './sanitize.js';
export * from './onex-error.js';
export * from './runtime-errors.js';
export * from './infra-errors.js';
export * from './contract-validation-error.js';
export * from './to-onex-error.js';
export * from './handler-validation-error.js';
