/**
 * `schema`: prints the JSON Schema of the runtime host contract, assembled from core's
 * generic schema and every registered handler unit's config schema. Editors (YAML
 * language server) use it for completion and inline checks; `validate` stays the full
 * check (rules across entries, node contracts, secrets).
 */
import { runtimeHostContractJsonSchema } from '@onex/core';
import { HANDLER_CATALOG } from '@onex/infra';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from './validate.js';

export function contractJsonSchema(): Record<string, unknown> {
  return { $id: 'https://onex.dev/schemas/runtime-host-contract.json', ...runtimeHostContractJsonSchema(HANDLER_CATALOG) };
}

export function schemaCommand(io: Output): ExitCode {
  io.out(JSON.stringify(contractJsonSchema(), null, 2));
  return EXIT.OK;
}
