/**
 * Compiles model schemas (JSON Schema draft 2020-12) into checks with Ajv, once per
 * distinct schema: a contract's models are compiled when it is validated and reused when
 * its nodes are built, never per envelope. Ajv generates code from the schema, and the
 * schema comes from the operator's contract, never from an envelope. Remote `$ref`s are
 * not fetched (core does no I/O): they fail compilation as unresolvable.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { JsonObject } from '../json.js';

/** The first way a value breaks a model: where (`items[0].price`, `<root>`) and what. */
export interface ModelViolation {
  readonly path: string;
  readonly message: string;
}

/** A compiled model check: undefined when the value conforms. */
export type ModelCheck = (value: unknown) => ModelViolation | undefined;

export type CompiledModel = { readonly ok: true; readonly check: ModelCheck } | { readonly ok: false; readonly problem: string };

function newAjv(): InstanceType<typeof Ajv2020.default> {
  // A fresh instance per schema: two nodes may reuse an `$id`, which one instance refuses.
  // strictSchema refuses unknown keywords (a typo would otherwise check nothing); the
  // stricter type rules would refuse schemas that are valid JSON Schema, so they are off.
  const ajv = new Ajv2020.default({ strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: false, logger: false });
  addFormats.default(ajv);
  return ajv;
}

const compiled = new Map<string, CompiledModel>();

/** `/items/0/price` → `items[0].price`. */
function fieldPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '<root>' : out;
}

function violationOf(error: ErrorObject): ModelViolation {
  const params = error.params as { missingProperty?: unknown; additionalProperty?: unknown };
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: fieldPath(error.instancePath, params.missingProperty), message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: fieldPath(error.instancePath, params.additionalProperty), message: 'is not allowed by the model' };
  }
  // Ajv's messages describe the rule ("must be number"), never the value: no payload data leaks.
  return { path: fieldPath(error.instancePath), message: error.message ?? `fails "${error.keyword}"` };
}

function wrap(validate: ValidateFunction): ModelCheck {
  return (value) => {
    if (validate(value)) return undefined;
    const first = validate.errors?.[0];
    return first === undefined ? { path: '<root>', message: 'does not match the model' } : violationOf(first);
  };
}

/** Compiles a model schema, or says why it is not a usable JSON Schema. */
export function compileModelSchema(schema: JsonObject): CompiledModel {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached !== undefined) return cached;
  let result: CompiledModel;
  try {
    result = { ok: true, check: wrap(newAjv().compile(schema)) };
  } catch (error) {
    result = { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
  compiled.set(key, result);
  return result;
}
