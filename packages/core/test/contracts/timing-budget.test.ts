import { describe, expect, it } from 'vitest';
import { worstCaseMs } from '../../src/index.js';
import { lines } from './spec-contracts.js';
import { validateRuntimeHostContract } from './test-catalog.js';

const header = ['runtime:', '  name: "rt"', '  version: "1.0.0"'];

function contract(bus: string[], config: string[], drain?: number): string {
  return lines(...header, ...bus, '  handlers:', '    - type: "http"', '      config:', ...config.map((c) => `        ${c}`), '  nodes: []', ...(drain === undefined ? [] : [`  drain_timeout_ms: ${drain}`]));
}
const INMEMORY = ['  event_bus:', '    kind: "inmemory"'];
const KAFKA = (extra: string[] = []) => ['  event_bus:', '    kind: "kafka"', '    config:', '      bootstrap_servers: "127.0.0.1:9092"', ...extra.map((e) => `      ${e}`)];

describe('worstCaseMs', () => {
  it('is timeout × attempts plus each retry backoff cap, doubling and capped by max_delay_ms', () => {
    const w = worstCaseMs({ timeoutMs: 1000, retryPolicy: { maxRetries: 4, backoffStrategy: 'exponential', baseDelayMs: 100, maxDelayMs: 300 } });
    expect(w).toEqual({ totalMs: 5000 + 100 + 200 + 300 + 300, attempts: 5, timeoutMs: 1000, backoffsMs: [100, 200, 300, 300] });
  });

  it('is one timeout without a retry policy, and a flat base delay when fixed', () => {
    expect(worstCaseMs({ timeoutMs: 2500 }).totalMs).toBe(2500);
    expect(worstCaseMs({ timeoutMs: 100, retryPolicy: { maxRetries: 2, backoffStrategy: 'fixed', baseDelayMs: 50, maxDelayMs: 5000 } }).totalMs).toBe(400);
  });
});

describe('CONTRACT_TIMING_BUDGET', () => {
  it('accepts the defaults, and a lowered drain for a binding that configures no timing of its own', () => {
    expect(validateRuntimeHostContract(contract(INMEMORY, ['pool_size: 1'])).ok).toBe(true);
    expect(validateRuntimeHostContract(contract(INMEMORY, ['pool_size: 1'], 10000)).ok).toBe(true);
    expect(validateRuntimeHostContract(contract(INMEMORY, ['timeout_ms: 30000'], 10000)).ok).toBe(false);
  });

  it('refuses a retry policy whose worst case outlasts the drain, with the arithmetic and the fitting timeout', () => {
    const result = validateRuntimeHostContract(contract(INMEMORY, ['timeout_ms: 10000', 'retry_policy: { max_retries: 2, base_delay_ms: 200, max_delay_ms: 2000 }'], 15000));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path, i.message])).toEqual([
      ['CONTRACT_TIMING_BUDGET', 'runtime.handlers[0].config.timeout_ms', 'The http handler can take 30600 ms per envelope, more than drain_timeout_ms (15000 ms)'],
    ]);
    expect(result.issues[0]?.hint).toContain('timeout_ms 10000 × 3 attempts + (200 + 400) = 30600 ms > drain_timeout_ms 15000 ms');
    expect(result.issues[0]?.hint).toContain('lower timeout_ms to 4800 or less');
    // The suggested timeout does fit.
    expect(validateRuntimeHostContract(contract(INMEMORY, ['timeout_ms: 4800', 'retry_policy: { max_retries: 2, base_delay_ms: 200, max_delay_ms: 2000 }'], 15000)).ok).toBe(true);
  });

  it('on Kafka also compares against rebalance_timeout_ms, not the session timeout', () => {
    const fitsDrain = ['timeout_ms: 20000'];
    expect(validateRuntimeHostContract(contract(KAFKA(['session_timeout_ms: 10000']), fitsDrain, 40000)).ok).toBe(true);
    const result = validateRuntimeHostContract(contract(KAFKA(['rebalance_timeout_ms: 15000']), fitsDrain, 40000));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.message)).toEqual(['The http handler can take 20000 ms per envelope, more than rebalance_timeout_ms (15000 ms)']);
  });

  it('does not check a host that never drains (drain_timeout_ms: 0) or a disabled binding', () => {
    expect(validateRuntimeHostContract(contract(INMEMORY, ['timeout_ms: 60000'], 0)).ok).toBe(true);
    const disabled = lines(...header, ...INMEMORY, '  handlers:', '    - type: "http"', '      enabled: false', '      config: { timeout_ms: 60000 }', '  nodes: []');
    expect(validateRuntimeHostContract(disabled).ok).toBe(true);
  });
});

describe('circuit_breaker and bulkhead policies', () => {
  it('refuses half_open_max_calls below half_open_successes and a bulkhead without max_concurrent', () => {
    const result = validateRuntimeHostContract(contract(INMEMORY, ['circuit_breaker: { half_open_successes: 3, half_open_max_calls: 2 }', 'bulkhead: { max_queue: 4 }']));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path])).toEqual([
      ['CONTRACT_INVALID_VALUE', 'runtime.handlers[0].config.circuit_breaker.half_open_max_calls'],
      ['CONTRACT_MISSING_FIELD', 'runtime.handlers[0].config.bulkhead.max_concurrent'],
    ]);
  });
});
