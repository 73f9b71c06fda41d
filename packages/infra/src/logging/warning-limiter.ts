/**
 * Log flood protection. A caller who can trigger a warning (a bad token, a malformed body,
 * a failing envelope) can otherwise write to the log as fast as the network allows, which
 * fills disks and hides everything else. Identical warnings, meaning the same message and
 * the same key fields, are let through up to a limit per time window; the rest are counted,
 * and one line per key says how many were suppressed when the window ends.
 */
import type { Logger } from './logger.js';
import type { Scheduler, TimerHandle } from '../runtime/scheduler.js';

export interface WarningLimiterOptions {
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  /** @default 10 */
  readonly maxPerWindow?: number;
  /** @default 60000 */
  readonly windowMs?: number;
  /**
   * Distinct keys tracked at once; beyond it, new keys share one bucket, so a caller who
   * varies the key fields cannot grow memory or dodge the limit.
   * @default 1000
   */
  readonly maxKeys?: number;
}

type KeyValue = string | number | boolean | undefined;

interface Bucket {
  readonly message: string;
  readonly keyFields: Readonly<Record<string, KeyValue>>;
  logged: number;
  suppressed: number;
  readonly timer: TimerHandle;
}

const OVERFLOW_KEY = '\u0000overflow';

/** Rate-limits identical warnings; see the module comment. */
export class WarningLimiter {
  readonly #logger: Logger;
  readonly #scheduler: Scheduler;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: WarningLimiterOptions) {
    this.#logger = options.logger;
    this.#scheduler = options.scheduler;
    this.#max = options.maxPerWindow ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxKeys = options.maxKeys ?? 1000;
  }

  /**
   * Logs `message` at warn level with `fields`, unless this window already had `maxPerWindow`
   * warnings with the same message and `keyFields`. `keyFields` are logged too; keep them
   * low-cardinality (client, route, reason), never ids that change with every request.
   */
  warn(keyFields: Readonly<Record<string, KeyValue>>, message: string, fields: Readonly<Record<string, unknown>> = {}): void {
    let key = `${message}\u0000${JSON.stringify(Object.entries(keyFields).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined && this.#buckets.size >= this.#maxKeys) {
      key = OVERFLOW_KEY;
      bucket = this.#buckets.get(key);
    }
    if (bucket === undefined) {
      const bucketKey = key;
      bucket = {
        message: key === OVERFLOW_KEY ? 'warnings' : message,
        keyFields: key === OVERFLOW_KEY ? {} : keyFields,
        logged: 0,
        suppressed: 0,
        timer: this.#scheduler.setTimeout(() => this.#close(bucketKey), this.#windowMs),
      };
      this.#buckets.set(key, bucket);
    }
    if (bucket.logged < this.#max && key !== OVERFLOW_KEY) {
      bucket.logged += 1;
      this.#logger.warn({ ...fields, ...keyFields }, message);
    } else {
      bucket.suppressed += 1;
    }
  }

  /** Reports what is still suppressed and forgets every key (on shutdown). */
  flush(): void {
    for (const [key, bucket] of [...this.#buckets]) {
      bucket.timer.cancel();
      this.#close(key);
    }
  }

  #close(key: string): void {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return;
    this.#buckets.delete(key);
    if (bucket.suppressed > 0) {
      this.#logger.warn(
        { ...bucket.keyFields, suppressed: bucket.suppressed, window_ms: this.#windowMs, suppressed_message: bucket.message },
        `suppressed ${bucket.suppressed} similar warnings`,
      );
    }
  }
}
