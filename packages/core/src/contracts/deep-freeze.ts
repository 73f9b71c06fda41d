/**
 * Contracts are parsed once and shared by every part of the host; freezing them makes an
 * accidental write fail loudly instead of changing behaviour somewhere else.
 */

/**
 * Freezes plain objects and arrays recursively, dropping keys whose value is `undefined`
 * so the result prints and compares exactly as the contract was written.
 */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
    return Object.freeze(value);
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (record[key] === undefined) delete record[key];
      else deepFreeze(record[key]);
    }
    return Object.freeze(value);
  }
  return value;
}
