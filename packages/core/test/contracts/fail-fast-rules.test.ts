import { describe, expect, it } from 'vitest';
import type { ContractIssue } from '../../src/errors/contract-validation-error.js';
import type { ParseRuntimeHostContractOptions } from '../../src/index.js';
import { validateRuntimeHostContract } from './test-catalog.js';
import { lines } from './spec-contracts.js';

/** Validates a contract that must be rejected and returns its issues. */
function rejected(text: string, options: Partial<ParseRuntimeHostContractOptions> = {}): readonly ContractIssue[] {
  const result = validateRuntimeHostContract(text, { source: 'runtime.yaml', ...options });
  if (result.ok) throw new Error('expected the contract to be rejected');
  return result.issues;
}

/** The single issue with `ruleId`; fails the test when there is none or several. */
function single(issues: readonly ContractIssue[], ruleId: string): ContractIssue {
  const matching = issues.filter((issue) => issue.ruleId === ruleId);
  expect(matching, `issues: ${JSON.stringify(issues, null, 2)}`).toHaveLength(1);
  const [issue] = matching;
  if (!issue) throw new Error('unreachable');
  expect(issue.hint.length).toBeGreaterThan(10);
  expect(issue.file).toBe('runtime.yaml');
  return issue;
}

/** A valid runtime section; tests replace the lines they are about. */
const header = ['schema_version: "1.0.0"', 'runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"'];

describe('contract loader fail-fast rules', () => {
  it('reports invalid YAML with line and column (CONTRACT_YAML_SYNTAX)', () => {
    const issue = single(rejected(lines(...header, '  handlers:', '    - type: "http"', '    - type: @db', '  nodes: []')), 'CONTRACT_YAML_SYNTAX');
    expect(issue).toMatchObject({ severity: 'error', line: 9, column: 13 });
    expect(issue.message).toContain('reserved character @');
  });

  it('reports a duplicate YAML key at the repeated key', () => {
    const issue = single(rejected(lines('runtime:', '  name: "a"', '  name: "b"')), 'CONTRACT_YAML_SYNTAX');
    expect(issue).toMatchObject({ line: 3, column: 3 });
    expect(issue.hint).toMatch(/once per mapping/);
  });

  it.each([
    ['empty text', ''],
    ['only comments', '# nothing here\n'],
    ['a list', '- runtime\n'],
    ['a scalar', 'runtime\n'],
  ])('rejects %s (CONTRACT_NOT_A_MAPPING)', (_label, text) => {
    const issue = single(rejected(text), 'CONTRACT_NOT_A_MAPPING');
    expect(issue.line).toBe(1);
  });

  it('rejects unknown fields at the key, listing the allowed ones (CONTRACT_UNKNOWN_FIELD)', () => {
    const issues = rejected(lines(...header, '    config:', '      bootstrap_server: "localhost:9092"', '  handlers: []', '  nodes: []'));
    const issue = single(issues, 'CONTRACT_UNKNOWN_FIELD');
    expect(issue).toMatchObject({ line: 8, column: 7, path: 'runtime.event_bus.config.bootstrap_server' });
    expect(issue.message).toContain('"bootstrap_server"');
    expect(issue.hint).toContain('Did you mean "bootstrap_servers"?');
    expect(issue.hint).toContain('consumer_group');
  });

  it('explains the reserved tenant_id field', () => {
    const issue = single(rejected(lines(...header, '  tenant_id: "acme"', '  handlers: []', '  nodes: []')), 'CONTRACT_UNKNOWN_FIELD');
    expect(issue.line).toBe(7);
    expect(issue.hint).toMatch(/reserved for multi-tenancy/);
  });

  it('lists every missing required field (CONTRACT_MISSING_FIELD)', () => {
    const issues = rejected(lines('runtime:', '  description: "no name, no version"', '  handlers: []'));
    const missing = issues.filter((issue) => issue.ruleId === 'CONTRACT_MISSING_FIELD');
    expect(missing.map((issue) => issue.path).sort()).toEqual(['runtime.event_bus', 'runtime.name', 'runtime.nodes', 'runtime.version']);
    for (const issue of missing) {
      // A missing field has no position of its own: it points at its parent's key.
      expect(issue.line).toBe(1);
      expect(issue.hint).toMatch(/^Add "/);
    }
  });

  it('calls a missing choice field missing, and lists the choices', () => {
    const issue = single(rejected(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    config: {}', '  handlers: []', '  nodes: []')), 'CONTRACT_MISSING_FIELD');
    expect(issue.path).toBe('runtime.event_bus.kind');
    expect(issue.hint).toBe('Add "kind" (one of "inmemory", "kafka") under runtime.event_bus.');
  });

  it('refuses a placeholder in a typed handler field, naming the override variable to use instead', () => {
    const issue = single(rejected(lines(...header, '  handlers:', '    - type: "http"', '      name: "orders-api"', '      config: { timeout_ms: "${TIMEOUT:-500}" }', '  nodes: []')), 'CONTRACT_INVALID_VALUE');
    expect(issue.path).toBe('runtime.handlers[0].config.timeout_ms');
    expect(issue.message).toContain('placeholders fill string fields only');
    expect(issue.hint).toContain('export ONEX_HANDLER_ORDERS_API_TIMEOUT_MS instead');
  });

  it('requires bootstrap_servers for a kafka event bus', () => {
    const issue = single(rejected(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "kafka"', '  handlers: []', '  nodes: []')), 'CONTRACT_MISSING_FIELD');
    expect(issue.path).toBe('runtime.event_bus.config.bootstrap_servers');
    expect(issue.line).toBe(4);
  });

  it('rejects wrong types and out-of-range values at the value (CONTRACT_INVALID_VALUE)', () => {
    const issues = rejected(lines(...header, '  handlers: []', '  nodes: []', '  max_in_flight: 0', '  drain_timeout_ms: "soon"'));
    const invalid = issues.filter((issue) => issue.ruleId === 'CONTRACT_INVALID_VALUE');
    expect(invalid.map((issue) => [issue.path, issue.line, issue.column])).toEqual([
      ['runtime.max_in_flight', 9, 18],
      ['runtime.drain_timeout_ms', 10, 21],
    ]);
    expect(invalid[0]?.message).toContain('greater than 0');
    expect(invalid[1]?.message).toContain('must be a number, got "soon"');
  });

  it('rejects an unknown handler type and lists the valid ones (CONTRACT_UNKNOWN_HANDLER_TYPE)', () => {
    const issue = single(rejected(lines(...header, '  handlers:', '    - type: "http"', '    - type: "kafka"', '  nodes: []')), 'CONTRACT_UNKNOWN_HANDLER_TYPE');
    expect(issue).toMatchObject({ line: 9, column: 13, path: 'runtime.handlers[1].type' });
    expect(issue.message).toBe('Unknown handler type "kafka"');
    expect(issue.hint).toContain('Valid handler types are: db, http, local (dev only)');
    expect(issue.hint).toContain('event bus');
  });

  it('rejects a known handler type that has no implementation yet', () => {
    const issue = single(rejected(lines(...header, '  handlers:', '    - type: "grpc"', '  nodes: []')), 'CONTRACT_UNKNOWN_HANDLER_TYPE');
    expect(issue.line).toBe(8);
    expect(issue.message).toContain('no implementation');
  });

  it('rejects a second handler of the same type, pointing at it (CONTRACT_DUPLICATE_HANDLER)', () => {
    const issue = single(
      rejected(lines(...header, '  handlers:', '    - type: "http"', '    - type: "db"', '    - type: "http"', '      name: "http2"', '  nodes: []')),
      'CONTRACT_DUPLICATE_HANDLER',
    );
    expect(issue).toMatchObject({ line: 10, column: 13, path: 'runtime.handlers[2].type' });
    expect(issue.message).toContain('first at runtime.handlers[0], line 8');
  });

  it('rejects duplicate node slugs (CONTRACT_DUPLICATE_NODE)', () => {
    const issue = single(rejected(lines(...header, '  handlers: []', '  nodes:', '    - slug: "a"', '    - slug: "b"', '    - slug: "a"')), 'CONTRACT_DUPLICATE_NODE');
    expect(issue).toMatchObject({ line: 11, path: 'runtime.nodes[2].slug' });
  });

  it('stops at a schema major version it cannot read (CONTRACT_SCHEMA_VERSION_MISMATCH)', () => {
    const issues = rejected(lines('schema_version: "2.0.0"', 'runtime:', '  fields_from_the_future: true'));
    expect(issues).toHaveLength(1);
    const issue = single(issues, 'CONTRACT_SCHEMA_VERSION_MISMATCH');
    expect(issue).toMatchObject({ line: 1, column: 17 });
    expect(issue.message).toContain('2.0.0');
    expect(issue.message).toContain('1.x.x');
    expect(issue.hint).toMatch(/Upgrade the runtime host/);
  });

  it('warns about a newer minor schema version', () => {
    const result = validateRuntimeHostContract(lines('schema_version: "1.4.0"', ...header.slice(1), '  handlers: [{ type: "http" }]', '  nodes: []'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings.map((w) => [w.ruleId, w.severity, w.line])).toEqual([['CONTRACT_SCHEMA_VERSION_NEWER', 'warning', 1]]);
  });

  it('refuses the local handler unless dev handlers are allowed (CONTRACT_DEV_HANDLER_FORBIDDEN)', () => {
    const text = lines(...header, '  handlers:', '    - type: "local"', '    - type: "http"', '  nodes: []');
    const issue = single(rejected(text), 'CONTRACT_DEV_HANDLER_FORBIDDEN');
    expect(issue).toMatchObject({ line: 8, column: 13 });
    expect(issue.hint).toContain('"dev" subcommand');

    const dev = validateRuntimeHostContract(text, { allowDevHandlers: true });
    expect(dev.ok).toBe(true);
    if (dev.ok) expect(dev.contract.runtime.handlers.map((h) => h.type)).toEqual(['local', 'http']);
  });

  it('warns about an empty handler list but still parses (CONTRACT_EMPTY_HANDLERS)', () => {
    const result = validateRuntimeHostContract(lines(...header, '  handlers: []', '  nodes: []'), { source: 'runtime.yaml' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ ruleId: 'CONTRACT_EMPTY_HANDLERS', severity: 'warning', line: 7, column: 3 });
    expect(result.warnings[0]?.hint).toBeTruthy();
  });

  it('rejects topics that break the naming schema or point the wrong way (CONTRACT_INVALID_TOPIC)', () => {
    const issues = rejected(
      lines(...header, '    config:', '      topics:', '        input: "onex.acme.orders.evt.v1"', '        output: "onex.internal.orders.evt.v1"', '  handlers: []', '  nodes: []'),
    );
    const topics = issues.filter((issue) => issue.ruleId === 'CONTRACT_INVALID_TOPIC');
    expect(topics.map((issue) => [issue.path, issue.line])).toEqual([
      ['runtime.event_bus.config.topics.input', 9],
      ['runtime.event_bus.config.topics.output', 10],
    ]);
    expect(topics[0]?.message).toContain('must be a "cmd" topic');
    expect(topics[0]?.hint).toContain('onex.acme.orders.cmd.v1');
    expect(topics[1]?.message).toContain('reserved');
  });
});
