/**
 * A node contract's `input_model` / `output_model` as a JSON Schema (draft 2020-12). A
 * model is written either as a `fields:` list (the spec's short form) or as a `schema:`
 * holding JSON Schema; both become one schema, so one compiled validator checks either.
 */
import type { JsonObject } from '../json.js';
import type { ModelSpec } from './node-contract-schema.js';

const STRING: JsonObject = { type: 'string' };
const INTEGER: JsonObject = { type: 'integer' };
const NUMBER: JsonObject = { type: 'number' };
const BOOLEAN: JsonObject = { type: 'boolean' };
const OBJECT: JsonObject = { type: 'object' };
const ARRAY: JsonObject = { type: 'array' };

/**
 * The field types a `fields:` list may name. The spec's contracts use Python-flavoured
 * names (`str`, `decimal`, `list[OrderItem]`), so those are accepted beside JSON's.
 */
export const MODEL_FIELD_TYPES: Readonly<Record<string, JsonObject>> = Object.freeze({
  any: {},
  string: STRING,
  str: STRING,
  integer: INTEGER,
  int: INTEGER,
  number: NUMBER,
  float: NUMBER,
  // JSON carries decimals as numbers; a contract wanting exact text uses schema: instead.
  decimal: NUMBER,
  boolean: BOOLEAN,
  bool: BOOLEAN,
  object: OBJECT,
  dict: OBJECT,
  mapping: OBJECT,
  array: ARRAY,
  list: ARRAY,
  null: { type: 'null' },
  uuid: { type: 'string', format: 'uuid' },
  datetime: { type: 'string', format: 'date-time' },
  'date-time': { type: 'string', format: 'date-time' },
  date: { type: 'string', format: 'date' },
});

/** A capitalised name (`OrderItem`) names a model: the value must be an object, its own fields are not checked here. */
const MODEL_NAME_RE = /^[A-Z][A-Za-z0-9_]*$/;
const LIST_RE = /^(?:list|array)\[(.+)\]$/;

/**
 * The JSON Schema of one field type, or undefined when the type is not one this runtime
 * can check (the contract is then invalid: an unchecked field would look enforced).
 */
export function fieldTypeSchema(type: string): JsonObject | undefined {
  const name = type.trim();
  // hasOwn: "constructor" and friends are not field types.
  if (Object.hasOwn(MODEL_FIELD_TYPES, name)) return MODEL_FIELD_TYPES[name];
  const list = LIST_RE.exec(name);
  if (list) {
    const items = fieldTypeSchema(list[1] as string);
    return items === undefined ? undefined : { type: 'array', items };
  }
  return MODEL_NAME_RE.test(name) ? OBJECT : undefined;
}

/**
 * The JSON Schema a model stands for: its `schema:` as written, or an object schema built
 * from its `fields:` (listed fields typed and, unless `required: false`, present; other
 * keys allowed). Undefined when the model declares neither, so nothing is checked.
 */
export function modelJsonSchema(model: ModelSpec): JsonObject | undefined {
  if (model.schema !== undefined) return model.schema;
  if (model.fields.length === 0) return undefined;
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const field of model.fields) {
    properties[field.name] = fieldTypeSchema(field.type) ?? {};
    if (field.required) required.push(field.name);
  }
  return { type: 'object', properties, required };
}
