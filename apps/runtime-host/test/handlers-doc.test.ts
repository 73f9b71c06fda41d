/**
 * docs/handlers.md is generated from the handler registry; this fails when a unit changed
 * and the page was not regenerated, and pins `schema` to the same registry.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HANDLER_UNITS } from '@onex/infra';
import { describe, expect, it } from 'vitest';
import { contractJsonSchema } from '../src/commands/schema.js';
import { renderHandlersDoc } from '../src/handlers-doc.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('handler docs and schema come from the registry', () => {
  it('docs/handlers.md is up to date (regenerate: node apps/runtime-host/scripts/gen-handlers-doc.mjs after a build)', async () => {
    const onDisk = await readFile(path.resolve(here, '../../../docs/handlers.md'), 'utf8');
    expect(onDisk).toBe(renderHandlersDoc());
  });

  it('the contract JSON Schema has one handler shape per registered unit, with its config keys', () => {
    const schema = contractJsonSchema() as { properties: { runtime: { properties: { handlers: { items: { oneOf?: unknown[]; anyOf?: unknown[] } } } } } };
    const items = schema.properties.runtime.properties.handlers.items;
    const variants = (items.oneOf ?? items.anyOf ?? []) as { properties: { type: { const: string }; config: { properties: Record<string, unknown> } } }[];
    expect(variants.map((v) => v.properties.type.const)).toEqual(HANDLER_UNITS.map((u) => u.type).sort());
    const db = variants.find((v) => v.properties.type.const === 'db');
    expect(Object.keys(db?.properties.config.properties ?? {})).toEqual(['timeout_ms', 'retry_policy', 'rate_limit', 'circuit_breaker', 'bulkhead', 'url', 'pool_size', 'connection_timeout_ms', 'application_name', 'max_rows', 'max_result_bytes', 'allow_privileged_role']);
  });
});
