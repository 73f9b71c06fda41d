/**
 * @onex/core/testing: helpers for development and tests only. Never import this from
 * production code: it holds the LocalHandler, which production contracts refuse.
 */
export * from './deterministic.js';
export * from './local-handler.js';
