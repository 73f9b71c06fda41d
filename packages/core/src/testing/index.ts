/**
 * @onex/core/testing: helpers for development and tests only: deterministic id and
 * clock providers. (The dev-only `local` handler lives with the other handlers in
 * @onex/infra.)
 */
export { DeterministicIdGenerator, DeterministicClock, deterministicProviders } from './deterministic.js';
