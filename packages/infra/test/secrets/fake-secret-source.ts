/**
 * A secret source held in memory: values can change between lookups, a lease can be
 * granted, a lookup can be held open (to test coalescing) or made to fail, and every
 * lookup is counted.
 */
import type { SecretLookup, SecretSource } from '@onex/spi';

export class FakeSecretSource implements SecretSource {
  readonly name: string;
  readonly values = new Map<string, string>();
  readonly lookups: string[] = [];
  leaseMs: number | undefined;
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(name: string, values: Record<string, string> = {}) {
    this.name = name;
    for (const [k, v] of Object.entries(values)) this.values.set(k, v);
  }

  /** Holds every lookup until `release()`. */
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async lookup(logicalName: string): Promise<SecretLookup | undefined> {
    this.lookups.push(logicalName);
    if (this.#gate) await this.#gate;
    if (this.failWith) throw this.failWith;
    const value = this.values.get(logicalName);
    return value === undefined ? undefined : { value, ...(this.leaseMs !== undefined ? { leaseMs: this.leaseMs } : {}) };
  }

  locate(logicalName: string): string {
    return `${this.name} entry ${logicalName}`;
  }
}
