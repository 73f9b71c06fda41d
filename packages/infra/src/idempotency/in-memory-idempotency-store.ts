/**
 * The default idempotency store: bounded, in one process, answering synchronously. It
 * protects against redelivery to the same host (a consumer restart without a process
 * restart, a rebalance back to the same instance); hosts that share a consumer group or
 * restart need the PostgreSQL store.
 */
import { HandlerConfigurationError } from '@onex/core';
import type { IdempotencyClaim, ProtocolIdempotencyStore } from '@onex/spi';

/** @default 1 hour */
export const DEFAULT_MEMORY_IDEMPOTENCY_TTL_MS = 3_600_000;
/** @default 10 000 */
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_ENTRIES = 10_000;
/** @default 64 MiB */
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES = 64 * 1024 * 1024;
/** A single response larger than `maxBytes / OVERSIZE_DIVISOR` is not stored. */
export const OVERSIZE_DIVISOR = 16;

export interface InMemoryIdempotencyStoreOptions {
  /** How long a completed response is replayed after `complete`. @default 3_600_000 (1 hour) */
  readonly ttlMs?: number;
  /**
   * Most ids held at once, pending and completed together. Over it, the oldest
   * completed entries are evicted first (see {@link InMemoryIdempotencyStore}).
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * Most bytes of stored responses, counted as 2 bytes per UTF-16 code unit (an upper
   * bound of what V8 keeps for a string, known without scanning it). Over it, the
   * oldest completed entries are evicted. A single response larger than
   * `maxBytes / 16` is not stored at all.
   * @default 67_108_864 (64 MiB)
   */
  readonly maxBytes?: number;
  /** Clock for leases and TTLs, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

interface PendingEntry {
  owner: string;
  leaseExpiresAtMs: number;
  /** The request the id was claimed for; undefined when claimed without a digest. */
  digest: string | undefined;
}

interface CompletedEntry {
  readonly expiresAtMs: number;
  readonly bytes: number;
  /** The digest of its claim, carried over at completion (undefined: matches any). */
  readonly digest: string | undefined;
  /** Built once at completion, so a replay allocates nothing. */
  readonly claim: IdempotencyClaim;
}

/** Re-used for every fresh claim: the hot path allocates no result object. */
const CLAIMED: IdempotencyClaim = Object.freeze({ status: 'claimed' });
const CONFLICT: IdempotencyClaim = Object.freeze({ status: 'conflict' });

/** Two digests disagree only when both are known: a record or claim without one matches any. */
function conflicts(stored: string | undefined, digest: string | undefined): boolean {
  return stored !== undefined && digest !== undefined && stored !== digest;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HandlerConfigurationError(`In-memory idempotency store option ${name} must be a positive integer (got ${String(value)})`, {
      operation: 'idempotency_store',
      hint: `Set ${name} to a whole number of at least 1, or leave it out for the default.`,
    });
  }
  return value;
}

/**
 * A bounded in-memory {@link ProtocolIdempotencyStore}. Every method answers
 * synchronously and the common paths (fresh claim, replay) allocate nothing.
 *
 * Bounds and what they cost:
 * - Completed entries live in insertion (= completion) order, and all share one TTL, so
 *   expired ones are dropped from the front as time passes, and eviction takes the
 *   oldest first. Evicting a completed entry means a later redelivery of it executes
 *   again, exactly as if its TTL had run out.
 * - Pending claims count towards `maxEntries` but are evicted only when no completed
 *   entry is left, oldest first: memory stays bounded even if claims are never
 *   completed or released, at the price of possibly executing such an envelope twice.
 * - A response larger than `maxBytes / 16` is not stored: `complete` drops the claim
 *   and returns, silently, so one huge response cannot flush every other entry. A
 *   redelivery of that envelope executes it again; use the PostgreSQL store when large
 *   responses must be replayed.
 */
export class InMemoryIdempotencyStore implements ProtocolIdempotencyStore {
  readonly kind = 'memory';
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxResponseBytes: number;
  readonly #now: () => number;
  /** Insertion order is claim order: the eviction order of last resort. */
  readonly #pending = new Map<string, PendingEntry>();
  readonly #completed = new Map<string, CompletedEntry>();
  /**
   * Completion order, hence expiry and eviction order. A queue beside the Map because
   * iterating a Map from its front after many deletes walks V8's tombstones: that made
   * every claim O(evicted) once the store was full.
   */
  #order: Array<{ readonly envelopeId: string; readonly entry: CompletedEntry }> = [];
  #orderHead = 0;
  #bytes = 0;
  /**
   * Expiry of the oldest completed entry, or earlier (it is not raised when that entry
   * is evicted or replaced); infinite when there is none.
   */
  #frontExpiresAtMs = Number.POSITIVE_INFINITY;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    this.#ttlMs = positiveInteger('ttlMs', options.ttlMs ?? DEFAULT_MEMORY_IDEMPOTENCY_TTL_MS);
    this.#maxEntries = positiveInteger('maxEntries', options.maxEntries ?? DEFAULT_MEMORY_IDEMPOTENCY_MAX_ENTRIES);
    this.#maxBytes = positiveInteger('maxBytes', options.maxBytes ?? DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES);
    this.#maxResponseBytes = Math.floor(this.#maxBytes / OVERSIZE_DIVISOR);
    this.#now = options.now ?? Date.now;
  }

  /** Ids held, pending and completed. */
  get size(): number {
    return this.#pending.size + this.#completed.size;
  }

  /** Bytes of stored responses, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  claim(envelopeId: string, owner: string, leaseMs: number, digest?: string): IdempotencyClaim {
    const now = this.#now();
    this.#dropExpired(now);
    const completed = this.#completed.get(envelopeId);
    if (completed !== undefined) {
      if (completed.expiresAtMs > now) return conflicts(completed.digest, digest) ? CONFLICT : completed.claim;
      this.#deleteCompleted(envelopeId, completed);
    }
    const leaseExpiresAtMs = now + leaseMs;
    const pending = this.#pending.get(envelopeId);
    if (pending === undefined) {
      this.#pending.set(envelopeId, { owner, leaseExpiresAtMs, digest });
      this.#enforceBounds();
      return CLAIMED;
    }
    // Like the PostgreSQL store: a claim for another request is refused, by any owner, live
    // or not, until the claim is a TTL past its lease (then it counts as abandoned and absent).
    if (conflicts(pending.digest, digest)) {
      if (pending.leaseExpiresAtMs + this.#ttlMs > now) return CONFLICT;
      this.#pending.delete(envelopeId);
      this.#pending.set(envelopeId, { owner, leaseExpiresAtMs, digest });
      return pending.owner === owner ? CLAIMED : { status: 'claimed', interruptedOwner: pending.owner };
    }
    pending.digest ??= digest;
    if (pending.owner === owner) {
      pending.leaseExpiresAtMs = leaseExpiresAtMs;
      return CLAIMED;
    }
    if (pending.leaseExpiresAtMs > now) {
      return { status: 'in_progress', owner: pending.owner, leaseExpiresAtMs: pending.leaseExpiresAtMs };
    }
    const interruptedOwner = pending.owner;
    // Re-inserted, so the takeover counts as the newest claim for eviction.
    this.#pending.delete(envelopeId);
    this.#pending.set(envelopeId, { owner, leaseExpiresAtMs, digest: pending.digest });
    return { status: 'claimed', interruptedOwner };
  }

  complete(envelopeId: string, owner: string, response: string): void {
    const now = this.#now();
    const pending = this.#pending.get(envelopeId);
    // Someone else took over after this owner's lease ran out: their result will stand.
    if (pending !== undefined && pending.owner !== owner) return;
    const completed = this.#completed.get(envelopeId);
    if (completed !== undefined) {
      if (completed.expiresAtMs > now) return;
      this.#deleteCompleted(envelopeId, completed);
    }
    if (pending !== undefined) this.#pending.delete(envelopeId);
    const digest = pending?.digest;
    const bytes = response.length * 2;
    if (bytes > this.#maxResponseBytes) return;
    // Without a pending entry (evicted under pressure) the response is still worth keeping:
    // it is the true result, and storing it prevents another execution.
    const expiresAtMs = now + this.#ttlMs;
    if (this.#completed.size === 0) this.#frontExpiresAtMs = expiresAtMs;
    const entry: CompletedEntry = { expiresAtMs, bytes, digest, claim: Object.freeze({ status: 'completed', response }) };
    this.#completed.set(envelopeId, entry);
    this.#order.push({ envelopeId, entry });
    this.#bytes += bytes;
    this.#dropExpired(now);
    this.#enforceBounds();
  }

  release(envelopeId: string, owner: string): void {
    const pending = this.#pending.get(envelopeId);
    if (pending !== undefined && pending.owner === owner) this.#pending.delete(envelopeId);
  }

  /** Forgets everything; the store stays usable (closing a memory store frees its memory). */
  close(): Promise<void> {
    this.#pending.clear();
    this.#completed.clear();
    this.#order = [];
    this.#orderHead = 0;
    this.#bytes = 0;
    this.#frontExpiresAtMs = Number.POSITIVE_INFINITY;
    return Promise.resolve();
  }

  /** Wire-safe facts for health and `describe` output. */
  describe(): { kind: 'memory'; entries: number; bytes: number; ttl_ms: number; max_entries: number; max_bytes: number } {
    return { kind: this.kind, entries: this.size, bytes: this.#bytes, ttl_ms: this.#ttlMs, max_entries: this.#maxEntries, max_bytes: this.#maxBytes };
  }

  /**
   * Completed entries expire in insertion order, so only the front needs looking at, and
   * only once the front's expiry has passed: most calls return without an iterator.
   */
  #dropExpired(now: number): void {
    if (now < this.#frontExpiresAtMs) return;
    for (let oldest = this.#oldestCompleted(); oldest !== undefined; oldest = this.#oldestCompleted()) {
      if (oldest.entry.expiresAtMs > now) {
        this.#frontExpiresAtMs = oldest.entry.expiresAtMs;
        return;
      }
      this.#deleteCompleted(oldest.envelopeId, oldest.entry);
    }
    this.#frontExpiresAtMs = Number.POSITIVE_INFINITY;
  }

  /** The oldest completed entry still stored (skipping queue slots already deleted or replaced). */
  #oldestCompleted(): { readonly envelopeId: string; readonly entry: CompletedEntry } | undefined {
    while (this.#orderHead < this.#order.length) {
      const slot = this.#order[this.#orderHead] as { readonly envelopeId: string; readonly entry: CompletedEntry };
      if (this.#completed.get(slot.envelopeId) === slot.entry) return slot;
      this.#orderHead += 1;
    }
    this.#order = [];
    this.#orderHead = 0;
    return undefined;
  }

  #enforceBounds(): void {
    while (this.#bytes > this.#maxBytes || this.size > this.#maxEntries) {
      const oldestCompleted = this.#oldestCompleted();
      if (oldestCompleted !== undefined) {
        this.#deleteCompleted(oldestCompleted.envelopeId, oldestCompleted.entry);
        continue;
      }
      // Only pending claims are left and there are too many of them.
      const oldestPending = this.#pending.keys().next();
      if (oldestPending.done) return;
      this.#pending.delete(oldestPending.value);
    }
  }

  #deleteCompleted(envelopeId: string, entry: CompletedEntry): void {
    this.#completed.delete(envelopeId);
    this.#bytes -= entry.bytes;
    // Deleted slots are skipped lazily; the queue is compacted once they are most of it.
    if (this.#orderHead > 1024 && this.#orderHead * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#orderHead);
      this.#orderHead = 0;
    }
  }
}

/** Creates the default, in-process idempotency store. */
export function createInMemoryIdempotencyStore(options: InMemoryIdempotencyStoreOptions = {}): InMemoryIdempotencyStore {
  return new InMemoryIdempotencyStore(options);
}
