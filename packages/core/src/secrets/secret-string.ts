/**
 * A secret value held in memory. It prints, serialises and inspects as a mask, so a
 * config object, a log line (pino serialises with JSON.stringify) or an error that
 * carries one by accident shows `[REDACTED]`, never the value. Only `reveal()` returns
 * the text: call it at the last moment, where the value is handed to a driver.
 */

/** What a SecretString shows everywhere except `reveal()`. */
export const SECRET_MASK = '[REDACTED]';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class SecretString {
  // A private field: not an own enumerable property, so spreads, Object.entries,
  // structuredClone and JSON see nothing of it.
  readonly #value: string;

  private constructor(value: string) {
    this.#value = value;
  }

  /** Wraps a value. */
  static of(value: string): SecretString {
    return new SecretString(value);
  }

  /** The secret itself. The only way out; never log or return what it gives. */
  reveal(): string {
    return this.#value;
  }

  /** Whether two secrets hold the same text, without revealing either. */
  equals(other: SecretString): boolean {
    return other.#value === this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return SECRET_MASK;
  }

  toJSON(): string {
    return SECRET_MASK;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_MASK;
  }

  [INSPECT](): string {
    return `SecretString(${SECRET_MASK})`;
  }
}

export function isSecretString(value: unknown): value is SecretString {
  return value instanceof SecretString;
}
