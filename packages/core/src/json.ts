/** A JSON value: what may travel inside an envelope. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

/** Deepest nesting accepted in a payload; deeper input is refused rather than overflowing the stack. */
export const MAX_JSON_DEPTH = 256;

/**
 * True when `value` is plain JSON (null, boolean, finite number, string, array, plain
 * object) nested at most MAX_JSON_DEPTH levels. Hand-rolled because it runs on every
 * envelope and a recursive schema union costs ten times more.
 */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (const item of value) if (!isJsonValue(item, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) if (!isJsonValue((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}
