import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContractIssue } from '../../src/errors/contract-validation-error.js';
import { CONTRACT_RULES, parseHandlerContract, validateHandlerContract } from '../../src/index.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { ContractValidationError } from '../../src/errors/contract-validation-error.js';
import { lines } from './spec-contracts.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/templates');

function rejected(text: string): readonly ContractIssue[] {
  const result = validateHandlerContract(text, { source: 'handlers/db/handler_contract.yaml' });
  if (result.ok) throw new Error('expected the handler contract to be rejected');
  return result.issues;
}

const EFFECT = [
  'handler_name: "handler_db"',
  'handler_version: "1.0.0"',
  'handler_type: "db"',
  'handler_type_category: "effect"',
  'capabilities: ["sql.pooled"]',
  'commands_accepted: ["db.query", "db.execute"]',
];

/** A well-formed adapter; tests replace one line to break one rule. */
const ADAPTER = {
  handler_name: 'handler_name: "handler_gateway"',
  handler_version: 'handler_version: "1.0.0"',
  handler_type: 'handler_type: "http"',
  category: 'handler_type_category: "effect"',
  is_adapter: 'is_adapter: true',
  capabilities: 'capabilities: []',
  commands: 'commands_accepted: ["http.post"]',
  security: 'security: { allowed_domains: ["hooks.example.com"], secret_scopes: [] }',
  observability: 'observability_level: "enhanced"',
};
const adapter = (overrides: Partial<Record<keyof typeof ADAPTER, string>> = {}) => lines(...Object.values({ ...ADAPTER, ...overrides }));

describe('parseHandlerContract', () => {
  it('parses an effect handler contract with every default filled in', () => {
    const { contract, warnings } = parseHandlerContract(lines(...EFFECT), { source: 'h.yaml' });
    expect(warnings).toEqual([]);
    expect(contract).toEqual({
      schemaVersion: '1.0.0',
      handlerName: 'handler_db',
      handlerVersion: '1.0.0',
      handlerType: 'db',
      category: 'effect',
      isAdapter: false,
      capabilities: ['sql.pooled'],
      commandsAccepted: ['db.query', 'db.execute'],
      security: { allowedDomains: undefined, secretScopes: [], allowSecretScopes: false, dataClassification: undefined },
      observabilityLevel: 'standard',
    });
    expect(Object.isFrozen(contract.security)).toBe(true);
  });

  it.each(['handler-compute', 'handler-effect', 'handler-effect-adapter'])('accepts the %s template', (name) => {
    const file = path.join(TEMPLATES, name, 'handler_contract.yaml');
    const result = validateHandlerContract(readFileSync(file, 'utf8'), { source: file });
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('reports a parse error as a structured issue with rule id, file:line and hint', () => {
    const issues = rejected(lines(...EFFECT.slice(0, 2), 'handler_type: [db', ...EFFECT.slice(3)));
    expect(issues[0]).toMatchObject({ ruleId: 'CONTRACT_YAML_SYNTAX', severity: 'error', file: 'handlers/db/handler_contract.yaml', line: expect.any(Number) });
    expect(issues[0]?.hint.length).toBeGreaterThan(0);
  });

  it('is strict: an unknown field is an error at its line', () => {
    const issues = rejected(lines(...EFFECT, 'colour: "blue"'));
    expect(issues).toEqual([expect.objectContaining({ ruleId: 'CONTRACT_UNKNOWN_FIELD', line: 7, column: 1 })]);
  });

  it.each([
    ['execution_graph: { nodes: [] }', 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION'],
    ['dispatch_rules: []', 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION'],
    ['publishes: ["onex.acme.orders.evt.v1"]', 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION'],
    ['publish_topics: ["onex.acme.orders.evt.v1"]', 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION'],
    ['import_path: "./my-handler.js"', 'HANDLER_CONTRACT_CODE_REFERENCE'],
  ])('forbids %s with its own rule (and no second unknown-field error)', (line, ruleId) => {
    const issues = rejected(lines(...EFFECT, line));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ ruleId, line: 7 });
    expect(issues[0]?.hint).toMatch(/Remove it/);
  });

  it('explains that contracts are one-way and handlers never publish', () => {
    const [issue] = rejected(lines(...EFFECT, 'publishes: []'));
    expect(issue?.message).toContain('handlers never publish');
    expect(issue?.hint).toContain('Contract → Descriptor is one-way');
  });

  it('requires a semantic handler_version and the identity fields', () => {
    const issues = rejected(lines('handler_version: 1.0', 'handler_type: "db"', 'handler_type_category: "effect"', 'capabilities: []', 'commands_accepted: ["db.query"]'));
    expect(issues.map((i) => i.ruleId)).toEqual(expect.arrayContaining(['CONTRACT_MISSING_FIELD', 'CONTRACT_INVALID_VALUE']));
  });

  it('rejects repeated commands and malformed secret scopes', () => {
    const issues = rejected(lines(...EFFECT.slice(0, 5), 'commands_accepted: ["db.query", "db.query"]', 'security: { secret_scopes: ["DB_URL"] }'));
    expect(issues.map((i) => i.path)).toEqual(['commands_accepted[1]', 'security.secret_scopes[0]']);
  });

  it('accepts a well-formed adapter', () => {
    expect(parseHandlerContract(adapter()).contract).toMatchObject({ isAdapter: true, observabilityLevel: 'enhanced', security: { allowedDomains: ['hooks.example.com'] } });
  });

  describe('adapter rules (is_adapter: true)', () => {
    it.each([
      ['a non-effect category', { category: 'handler_type_category: "compute"' }, 'HANDLER_ADAPTER_CATEGORY', 'handler_type_category'],
      ['secret scopes', { security: 'security: { allowed_domains: [], secret_scopes: ["env://TOKEN"] }' }, 'HANDLER_ADAPTER_SECRETS', 'security.secret_scopes'],
      ['no allowed_domains', { security: 'security: { secret_scopes: [] }' }, 'HANDLER_ADAPTER_DOMAINS', 'security'],
      ['standard observability', { observability: 'observability_level: "standard"' }, 'HANDLER_ADAPTER_OBSERVABILITY', 'observability_level'],
    ] as const)('rejects an adapter with %s', (_what, overrides, ruleId, at) => {
      const issues = rejected(adapter(overrides));
      expect(issues).toEqual([expect.objectContaining({ ruleId, path: at, line: expect.any(Number) })]);
      expect(issues[0]?.hint.length).toBeGreaterThan(0);
      expect(Object.keys(CONTRACT_RULES)).toContain(ruleId);
    });

    it('lets an adapter hold secret scopes only with the explicit override', () => {
      const text = adapter({ security: 'security: { allowed_domains: [], secret_scopes: ["env://TOKEN"], allow_secret_scopes: true }' });
      expect(parseHandlerContract(text).contract.security).toMatchObject({ secretScopes: ['env://TOKEN'], allowSecretScopes: true, allowedDomains: [] });
    });

    it('treats an empty allowed_domains as declared (no outbound traffic)', () => {
      expect(validateHandlerContract(adapter({ security: 'security: { allowed_domains: [] }' })).ok).toBe(true);
    });
  });

  it('throws a ContractValidationError from parseHandlerContract', () => {
    expect(() => parseHandlerContract('handler_name: 1', { source: 'x.yaml' })).toThrow(ContractValidationError);
  });
});

describe('runtime.handler_source', () => {
  const runtime = (...handlerSource: string[]) =>
    lines('runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers: []', '  nodes: []', ...handlerSource);

  it('defaults to contract mode with contract_paths ["handlers"] and no override', () => {
    expect(parseRuntimeHostContract(runtime()).contract.runtime.handlerSource).toEqual({
      mode: 'contract',
      contractPaths: ['handlers'],
      allowBootstrapOverride: false,
      bootstrapExpiresAt: undefined,
    });
  });

  it('reads the bootstrap override and its expiry', () => {
    const text = runtime('  handler_source:', '    mode: bootstrap', '    allow_bootstrap_override: true', '    bootstrap_expires_at: "2026-03-01T00:00:00Z"');
    expect(parseRuntimeHostContract(text).contract.runtime.handlerSource).toMatchObject({ mode: 'bootstrap', allowBootstrapOverride: true, bootstrapExpiresAt: '2026-03-01T00:00:00Z' });
  });

  it('rejects a mode outside contract | bootstrap | hybrid and a date without an offset', () => {
    const result = validateRuntimeHostContract(runtime('  handler_source:', '    mode: plugins', '    bootstrap_expires_at: "2026-03-01"'));
    expect(result.ok ? [] : result.issues.filter((i) => i.severity === 'error').map((i) => [i.ruleId, i.path, i.line])).toEqual([
      ['CONTRACT_INVALID_VALUE', 'runtime.handler_source.mode', 8],
      ['CONTRACT_INVALID_VALUE', 'runtime.handler_source.bootstrap_expires_at', 9],
    ]);
  });
});
