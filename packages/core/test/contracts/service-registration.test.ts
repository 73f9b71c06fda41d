/** `runtime.service_registration`: defaults, the ingress rule, and secrets kept out of the contract. */
import { describe, expect, it } from 'vitest';
import { RUNTIME_HOST_DEFAULTS } from '../../src/index.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { lines } from './spec-contracts.js';

const contract = (...extra: string[]) =>
  lines('runtime:', '  name: "orders_rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers: []', '  nodes: []', ...extra);

describe('runtime.service_registration', () => {
  it('is absent unless written, and fills in every default when it is', () => {
    expect(parseRuntimeHostContract(contract()).contract.runtime.serviceRegistration).toBeUndefined();
    const { contract: parsed } = parseRuntimeHostContract(contract('  service_registration:', '    consul: { address: "${CONSUL_HTTP_ADDR}", token: { secret_ref: "env://CONSUL_TOKEN" } }'));
    expect(parsed.runtime.serviceRegistration).toEqual({
      consul: { address: '${CONSUL_HTTP_ADDR}', token: { secretRef: 'env://CONSUL_TOKEN', scheme: 'env', path: 'CONSUL_TOKEN' } },
      serviceName: 'orders_rt',
      tags: [],
      meta: {},
      check: {
        intervalMs: RUNTIME_HOST_DEFAULTS.serviceRegistration.checkIntervalMs,
        timeoutMs: RUNTIME_HOST_DEFAULTS.serviceRegistration.checkTimeoutMs,
        deregisterCriticalAfterMs: RUNTIME_HOST_DEFAULTS.serviceRegistration.deregisterCriticalAfterMs,
      },
    });
  });

  it('needs the ingress, since Consul checks the host through /health/ready', () => {
    const result = validateRuntimeHostContract(contract('  ingress: { enabled: false }', '  service_registration:', '    consul: { address: "127.0.0.1:8500" }'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.filter((i) => i.severity === 'error').map((i) => [i.ruleId, i.path])).toEqual([['CONTRACT_REGISTRATION_NEEDS_INGRESS', 'runtime.service_registration']]);
    expect(result.issues.find((i) => i.severity === 'error')?.hint).toContain('ingress.enabled: true');
  });

  it('refuses a wildcard ingress host without an advertised address, a literal token and unknown keys', () => {
    const wildcard = validateRuntimeHostContract(contract('  ingress: { host: "0.0.0.0", auth_tokens: [{ client: "c", token: "${T}" }] }', '  service_registration:', '    consul: { address: "127.0.0.1:8500" }'));
    expect(wildcard.ok ? [] : wildcard.issues.filter((i) => i.severity === 'error').map((i) => i.path)).toEqual(['runtime.service_registration.address']);
    const literal = validateRuntimeHostContract(contract('  service_registration:', '    consul: { address: "127.0.0.1:8500", token: "abc-123" }'));
    expect(literal.ok ? [] : literal.issues.filter((i) => i.severity === 'error').map((i) => i.ruleId)).toEqual(['CONTRACT_INLINE_SECRET']);
    expect(JSON.stringify(literal)).not.toContain('abc-123');
    const unknown = validateRuntimeHostContract(contract('  service_registration:', '    consul: { address: "127.0.0.1:8500" }', '    check: { interval: 5 }'));
    expect(unknown.ok ? [] : unknown.issues.filter((i) => i.severity === 'error').map((i) => i.ruleId)).toEqual(['CONTRACT_UNKNOWN_FIELD']);
  });
});
