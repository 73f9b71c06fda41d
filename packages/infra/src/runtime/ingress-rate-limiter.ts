/**
 * The ingress's per-client rate limit: one token bucket per authenticated client, or per
 * remote address when the ingress has no tokens. Addresses are chosen by whoever connects,
 * so the buckets kept for them are bounded: a bucket that has refilled carries no state and
 * is dropped lazily, and past the bound the least recently used one goes.
 */
import { InfraRateLimitedError, type RateLimit } from '@onex/core';
import { TokenBucket } from '../resilience/token-bucket.js';
import type { Scheduler } from './scheduler.js';

/** Buckets kept at most when the options do not say (each a few dozen bytes). */
export const DEFAULT_MAX_TRACKED_CLIENTS = 10_000;

/** Idle buckets looked at per admission: enough to keep up with arrivals, O(1) per request. */
const SWEEP_PER_ADMISSION = 2;

export interface IngressRateLimiterOptions {
  /** Buckets kept at most; past it the least recently used is dropped. @default 10000 */
  readonly maxTracked?: number;
}

/** Admitted, or refused with when a token will be there. */
export type IngressAdmission = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterMs: number };

const ADMITTED: IngressAdmission = Object.freeze({ admitted: true });

export class IngressRateLimiter {
  readonly #limit: RateLimit;
  readonly #scheduler: Scheduler;
  readonly #maxTracked: number;
  /** Insertion order is recency order: a bucket is moved to the end when used. */
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: RateLimit, scheduler: Scheduler, options: IngressRateLimiterOptions = {}) {
    this.#limit = limit;
    this.#scheduler = scheduler;
    this.#maxTracked = Math.max(1, options.maxTracked ?? DEFAULT_MAX_TRACKED_CLIENTS);
  }

  /** Takes a token for `key` now, or says how long until one is free. Never waits. */
  admit(key: string): IngressAdmission {
    this.#sweep();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      while (this.#buckets.size >= this.#maxTracked) this.#dropOldest();
      bucket = new TokenBucket(this.#limit, this.#scheduler);
    } else {
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    const verdict = bucket.reserve(0);
    return 'retryAfterMs' in verdict ? { admitted: false, retryAfterMs: verdict.retryAfterMs } : ADMITTED;
  }

  /** Buckets kept now (for tests and diagnostics). */
  get tracked(): number {
    return this.#buckets.size;
  }

  /** Drops the least recently used buckets that have refilled: forgetting them changes nothing. */
  #sweep(): void {
    for (let i = 0; i < SWEEP_PER_ADMISSION; i += 1) {
      const oldest = this.#buckets.entries().next();
      if (oldest.done === true || oldest.value[1].available < this.#limit.burst) return;
      this.#buckets.delete(oldest.value[0]);
    }
  }

  #dropOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) this.#buckets.delete(oldest.value);
  }
}

/** The 429 answer's error and headers: `Retry-After` in whole seconds (at least 1), the exact wait in `retry_after_ms`. */
export function ingressRateLimitedError(retryAfterMs: number, client: string | undefined): { readonly error: InfraRateLimitedError; readonly headers: Readonly<Record<string, string>> } {
  const who = client === undefined ? 'this address' : `client "${client}"`;
  const error = new InfraRateLimitedError(`Too many requests from ${who}: the ingress rate limit has no token now`, {
    transportType: 'http',
    details: { policy: 'ingress_rate_limit', retry_after_ms: retryAfterMs },
    hint: `Send it again after retry_after_ms (${retryAfterMs} ms), or raise runtime.ingress.rate_limit.per_second / burst.`,
  });
  return { error, headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } };
}

/**
 * The bucket key of a caller: its client name when authenticated, else its address. An IPv6
 * caller usually holds a whole /64, so it is one key per /64 (else it could rotate addresses
 * to get a fresh bucket each time); an IPv4-mapped address is its IPv4 address.
 */
export function ingressClientKey(client: string | undefined, remoteAddress: string | undefined): string {
  if (client !== undefined) return `client:${client}`;
  const address = (remoteAddress ?? 'unknown').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped !== null) return `addr:${mapped[1] ?? address}`;
  if (!address.includes(':')) return `addr:${address}`;
  return `addr:${ipv6Prefix64(address)}::/64`;
}

/** The first four hextets of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0`). */
function ipv6Prefix64(address: string): string {
  const bare = address.split('%')[0] ?? address;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => '0');
  return [...left, ...zeros, ...right]
    .slice(0, 4)
    .map((h) => h.replace(/^0+(?=.)/, ''))
    .join(':');
}
