import { describe, expect, it } from 'vitest';
import { runtimeHostContractJsonSchema } from '../../src/index.js';
import { TEST_CATALOG } from './test-catalog.js';

type Json = Record<string, unknown>;
const at = (value: unknown, ...keys: string[]): Json => keys.reduce<Json>((v, k) => (v[k] ?? {}) as Json, value as Json);

describe('runtimeHostContractJsonSchema', () => {
  const schema = runtimeHostContractJsonSchema(TEST_CATALOG);
  const handlers = at(schema, 'properties', 'runtime', 'properties', 'handlers', 'items');
  const variants = (handlers.oneOf ?? handlers.anyOf) as Json[];

  it('describes one handler shape per catalog type, its config = policies + the handler keys', () => {
    const byType = Object.fromEntries(variants.map((v) => [at(v, 'properties', 'type').const, v]));
    expect(Object.keys(byType).sort()).toEqual(['db', 'http', 'local']);
    expect(Object.keys(at(byType.db, 'properties', 'config', 'properties'))).toEqual(['timeout_ms', 'retry_policy', 'rate_limit', 'circuit_breaker', 'bulkhead', 'url', 'password', 'pool_size']);
    expect(at(byType.local, 'properties', 'config').additionalProperties).toBe(false);
  });

  it('describes what users write: defaulted fields are optional', () => {
    expect(at(schema, 'properties', 'runtime').required).toEqual(['name', 'version', 'event_bus', 'handlers', 'nodes']);
  });
});
