import { backoffCapMs, type RetryPolicy } from '@onex/core';

/**
 * The wait before retry number `attempt` (1 = the first retry), with full jitter: a random
 * point below the cap, so hosts that failed together do not retry together. The cap is
 * `base_delay_ms` for `fixed`, and `base_delay_ms · 2^(attempt-1)` for `exponential`, never
 * above `max_delay_ms`. `random` is in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: number): number {
  // The same cap the contract's timing budget adds up (core), so the two cannot disagree.
  return Math.floor(random * backoffCapMs(policy, attempt));
}
