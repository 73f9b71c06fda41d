/**
 * The idempotency store: how the runtime host makes at-least-once delivery execute an
 * envelope at most once. Before executing, the host claims the envelope id; a
 * redelivered envelope whose first execution finished gets the stored response back
 * instead of running again.
 */

/** What claiming an envelope id found. */
export type IdempotencyClaim =
  /**
   * Nobody finished or holds it: the caller executes it now and must later `complete`
   * or `release` it. `interruptedOwner` is set when an earlier owner's claim had
   * expired unfinished (that owner crashed or stalled mid-execution; its side effects
   * may or may not have happened).
   */
  | { readonly status: 'claimed'; readonly interruptedOwner?: string | undefined }
  /** Finished before: the response it produced, as the wire JSON text stored by `complete`. */
  | { readonly status: 'completed'; readonly response: string }
  /**
   * Another owner holds a live claim (e.g. the other host during a rebalance).
   * `leaseExpiresAtMs` is epoch milliseconds on the store's clock (the database's, for
   * a shared store), so compare it with care across hosts.
   */
  | { readonly status: 'in_progress'; readonly owner: string; readonly leaseExpiresAtMs: number }
  /**
   * The id is held or completed for a different request (another digest): the caller must
   * not execute it, and must not complete or release it. The record is left as it was.
   */
  | { readonly status: 'conflict' };

/**
 * A value, or a promise of one. Stores that can answer at once (in-memory) return plain
 * values so the hot path allocates no promise; callers check with `instanceof Promise`
 * or simply `await` it.
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * Records which envelope ids were executed, by whom, and what they answered.
 *
 * Owners are opaque strings naming one executing host instance; a restarted host should
 * use a new owner id, so that its predecessor's unfinished claims show up as
 * `interruptedOwner` once their leases expire.
 */
export interface ProtocolIdempotencyStore {
  /** Which implementation this is, e.g. `'memory'` or `'postgres'`, for health and logs. */
  readonly kind: string;
  /**
   * Claims `envelopeId` for `owner` for `leaseMs` milliseconds. Atomic: of concurrent
   * claims by different owners exactly one gets `claimed`. The same owner claiming again
   * while its own claim is pending gets `claimed` again, with a renewed lease. A
   * `completed` record older than the store's TTL counts as absent.
   *
   * `digest` identifies the request the id was used for (the host's is a SHA-256 of the
   * envelope's operation, target, handler type and payload; see docs/envelope.md). It is
   * stored with the claim and kept through `complete`; a later claim of the same id with
   * another digest gets `conflict`, whoever holds it and whatever its state, until the
   * record expires. Without a digest nothing is checked, and a record stored without
   * one (by an earlier version) matches any digest. The runtime host always passes one.
   */
  claim(envelopeId: string, owner: string, leaseMs: number, digest?: string): Awaitable<IdempotencyClaim>;
  /**
   * Records the finished response (wire JSON text), kept for the store's TTL. Only the
   * owner of the pending claim may complete; a completion by anyone else, or of an id
   * already completed, is ignored (the first result stands).
   */
  complete(envelopeId: string, owner: string, response: string): Awaitable<void>;
  /**
   * Gives up `owner`'s claim without a result, so the next delivery executes at once
   * (used when the host abandons work). Ignored when `owner` does not hold the claim.
   */
  release(envelopeId: string, owner: string): Awaitable<void>;
  /** Releases connections and memory. Idempotent. */
  close(): Promise<void>;
}
