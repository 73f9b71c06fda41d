/**
 * The timing budget of a handler binding: how long one envelope can take in the worst
 * case under its policies, and whether that fits the host's drain (and, on Kafka, its
 * rebalance) window. A contract that does not fit would lose work on every shutdown or
 * rebalance; `validate` says so with the arithmetic, so the fix is obvious.
 */
import type { HandlerPolicies, RetryPolicy } from './runtime-host-contract-schema.js';

/** The worst case of one envelope, and its parts, in milliseconds. */
export interface WorstCase {
  readonly totalMs: number;
  readonly attempts: number;
  readonly timeoutMs: number;
  /** The largest wait before each retry (full jitter waits at most this), in order. */
  readonly backoffsMs: readonly number[];
}

/** The cap of the wait before retry `attempt` (1 = first retry): what full jitter draws below. */
export function backoffCapMs(policy: RetryPolicy, attempt: number): number {
  const growth = policy.backoffStrategy === 'exponential' ? 2 ** Math.max(0, attempt - 1) : 1;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * growth);
}

/**
 * `timeout_ms × (max_retries + 1)` plus every retry's largest backoff. Waits for the
 * bulkhead and the rate limit spend from each attempt's `timeout_ms`, so they add nothing.
 */
export function worstCaseMs(policies: Pick<HandlerPolicies, 'timeoutMs' | 'retryPolicy'>): WorstCase {
  const retries = policies.retryPolicy?.maxRetries ?? 0;
  const backoffsMs: number[] = [];
  for (let attempt = 1; attempt <= retries; attempt += 1) backoffsMs.push(backoffCapMs(policies.retryPolicy as RetryPolicy, attempt));
  const attempts = retries + 1;
  const totalMs = policies.timeoutMs * attempts + backoffsMs.reduce((a, b) => a + b, 0);
  return { totalMs, attempts, timeoutMs: policies.timeoutMs, backoffsMs };
}

/** `30000 × 4 + (100 + 200 + 400) = 120700 ms`: the arithmetic as a hint shows it. */
export function formatWorstCase(w: WorstCase): string {
  const backoff = w.backoffsMs.length === 0 ? '' : ` + (${w.backoffsMs.join(' + ')})`;
  return `timeout_ms ${w.timeoutMs} × ${w.attempts} attempt${w.attempts === 1 ? '' : 's'}${backoff} = ${w.totalMs} ms`;
}

/** A budget a binding's worst case exceeds: its name, its limit, and why it matters. */
export interface BudgetExcess {
  readonly limit: 'drain_timeout_ms' | 'rebalance_timeout_ms';
  readonly limitMs: number;
  readonly worst: WorstCase;
}

/**
 * Which windows the worst case must fit:
 * - `drain_timeout_ms`: on shutdown, work still running after it is abandoned and
 *   delivered again, so an envelope that can outlast it may be executed twice.
 * - Kafka `rebalance_timeout_ms`: on a rebalance the bus finishes the records in
 *   processing before it rejoins; a member that takes longer is dropped from the group and
 *   its partitions (with those records) move to another host.
 * The Kafka session timeout is not compared: the bus heartbeats while envelopes are
 * processed, so a long envelope never makes the member miss its session.
 */
export function budgetExcesses(policies: Pick<HandlerPolicies, 'timeoutMs' | 'retryPolicy'>, limits: { drainTimeoutMs: number; rebalanceTimeoutMs?: number | undefined }): BudgetExcess[] {
  const worst = worstCaseMs(policies);
  const out: BudgetExcess[] = [];
  if (worst.totalMs > limits.drainTimeoutMs) out.push({ limit: 'drain_timeout_ms', limitMs: limits.drainTimeoutMs, worst });
  if (limits.rebalanceTimeoutMs !== undefined && worst.totalMs > limits.rebalanceTimeoutMs) out.push({ limit: 'rebalance_timeout_ms', limitMs: limits.rebalanceTimeoutMs, worst });
  return out;
}

/** The hint for an excess: the arithmetic, and the two ways out. */
export function budgetHint(excess: BudgetExcess): string {
  const w = excess.worst;
  const why =
    excess.limit === 'drain_timeout_ms'
      ? 'an envelope still running when the drain ends is abandoned and delivered again'
      : 'a member still finishing an envelope when a rebalance times out is dropped and its partitions move';
  // The largest timeout that fits, keeping the retry policy: what users most often want.
  const backoffs = w.totalMs - w.timeoutMs * w.attempts;
  const fitting = Math.floor((excess.limitMs - backoffs) / w.attempts);
  const lower = fitting > 0 ? `lower timeout_ms to ${fitting} or less, or max_retries` : 'lower max_retries or the retry delays';
  return `Worst case per envelope: ${formatWorstCase(w)} > ${excess.limit} ${excess.limitMs} ms (${why}). Either ${lower}, or raise ${excess.limit} to at least ${w.totalMs}.`;
}
