import { describe, expect, it } from 'vitest';
import type { ContractIssue } from '../../src/errors/contract-validation-error.js';
import { parseNodeContract, validateNodeContract } from '../../src/index.js';
import { lines, ORDER_CALCULATOR_COMPUTE, USER_SERVICE_EFFECT } from './spec-contracts.js';
import { TEST_CATALOG } from './test-catalog.js';

function rejected(text: string): readonly ContractIssue[] {
  const result = validateNodeContract(text, { source: 'node.yaml' });
  if (result.ok) throw new Error('expected the contract to be rejected');
  return result.issues;
}

/** A valid node contract up to io_operations; tests append what they are about. */
const head = [
  'node_version: "1.0.0"',
  'name: "sample_node"',
  'node_type: "EFFECT"',
  'description: "A node"',
  'input_model: { name: "ModelIn" }',
  'output_model: { name: "ModelOut" }',
];

describe('parseNodeContract', () => {
  it('parses the effect node example from the spec', () => {
    const { contract, warnings } = parseNodeContract(USER_SERVICE_EFFECT, { source: 'user_service_effect.yaml' });
    expect(warnings).toEqual([]);
    expect(contract).toMatchObject({
      schemaVersion: '1.0.0',
      nodeVersion: '1.0.0',
      name: 'user_service_effect',
      nodeType: 'EFFECT',
      ioOperations: [{ type: 'http', operations: ['http.get'], target: 'https://api.example.com/users' }],
      dependencies: [],
    });
    expect(contract.inputModel.fields).toEqual([{ name: 'user_id', type: 'string', required: true }]);
    // Fields without `required` are required.
    expect(contract.outputModel.fields.map((f) => f.required)).toEqual([true, true, true]);
    expect(Object.isFrozen(contract.ioOperations[0])).toBe(true);
  });

  it('parses the compute node example from the spec', () => {
    const { contract } = parseNodeContract(ORDER_CALCULATOR_COMPUTE);
    expect(contract.nodeType).toBe('COMPUTE');
    expect(contract.ioOperations).toEqual([]);
    expect(contract.inputModel.fields.map((f) => [f.name, f.required])).toEqual([
      ['items', true],
      ['discount_code', false],
    ]);
  });

  it('normalises _GENERIC node types and object versions', () => {
    const { contract } = parseNodeContract(
      lines(
        'node_version: { major: 1, minor: 2, patch: 3 }',
        'contract_version: { major: 1, minor: 0, patch: 0 }',
        'name: "registration_orchestrator"',
        'node_type: "ORCHESTRATOR_GENERIC"',
        'description: "Coordinates registration"',
        'input_model: { name: "ModelIn", module: "app.models.model_in", description: "in" }',
        'output_model: { name: "ModelOut" }',
        'dependencies: ["protocol_event_bus", { name: "consul", type: "service" }]',
      ),
    );
    expect(contract).toMatchObject({ nodeVersion: '1.2.3', contractVersion: '1.0.0', nodeType: 'ORCHESTRATOR' });
    expect(contract.inputModel).toEqual({ name: 'ModelIn', module: 'app.models.model_in', description: 'in', fields: [] });
    expect(contract.dependencies).toEqual([{ name: 'protocol_event_bus' }, { name: 'consul', type: 'service' }]);
  });

  it('parses both handler routing strategies', () => {
    const byOperation = parseNodeContract(
      lines(
        ...head,
        'handler_routing:',
        '  routing_strategy: "operation_match"',
        '  handlers:',
        '    - operation: "register_node"',
        '      handler: { name: "HandlerConsulRegister", module: "app.handlers.handler_consul_register" }',
      ),
    ).contract;
    expect(byOperation.handlerRouting).toEqual({
      routingStrategy: 'operation_match',
      payloadTypeField: 'payload_type',
      handlers: [{ operation: 'register_node', handler: { name: 'HandlerConsulRegister', module: 'app.handlers.handler_consul_register' } }],
    });

    const byPayload = parseNodeContract(
      lines(
        ...head,
        'handler_routing:',
        '  routing_strategy: "payload_type_match"',
        '  handlers:',
        '    - event_model: { name: "ModelNodeIntrospectionEvent", module: "app.models" }',
        '      handler: { name: "HandlerNodeIntrospected" }',
        '    - event_model: "ModelHeartbeat"',
        '      handler: { name: "HandlerHeartbeat" }',
        '    - payload_type: "node.deregistered"',
        '      handler: { name: "HandlerDeregistered" }',
      ),
    ).contract;
    expect(byPayload.handlerRouting?.handlers.map((h) => h.eventModel?.name ?? h.payloadType)).toEqual(['ModelNodeIntrospectionEvent', 'ModelHeartbeat', 'node.deregistered']);
  });
});

describe('node contract rules', () => {
  it('rejects io_operations on a COMPUTE node (CONTRACT_COMPUTE_HAS_IO)', () => {
    const text = ORDER_CALCULATOR_COMPUTE.replace('io_operations: []', 'io_operations:\n  - type: "db"\n    operations: ["db.query"]');
    const issues = rejected(text);
    expect(issues).toHaveLength(1);
    const line = text.split('\n').indexOf('io_operations:') + 1;
    expect(issues[0]).toMatchObject({ ruleId: 'CONTRACT_COMPUTE_HAS_IO', line, column: 1, file: 'node.yaml' });
    expect(issues[0]?.hint).toContain('EFFECT');
  });

  it('rejects operations outside their handler type (CONTRACT_IO_OPERATION_MISMATCH)', () => {
    const issues = rejected(lines(...head, 'io_operations:', '  - type: "http"', '    operations: ["http.get", "db.query"]'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ ruleId: 'CONTRACT_IO_OPERATION_MISMATCH', line: 9, column: 30, path: 'io_operations[0].operations[1]' });
    expect(issues[0]?.hint).toContain('type "db"');
  });

  it('rejects unknown io handler types and malformed operations', () => {
    const issues = rejected(lines(...head, 'io_operations:', '  - type: "smtp"', '    operations: ["smtp.send"]', '  - type: "http"', '    operations: ["HTTP.GET"]'));
    expect(issues.map((i) => [i.ruleId, i.line])).toEqual([
      ['CONTRACT_UNKNOWN_HANDLER_TYPE', 8],
      ['CONTRACT_INVALID_VALUE', 11],
    ]);
  });

  it('requires the routing key of the chosen strategy', () => {
    const issues = rejected(
      lines(
        ...head,
        'handler_routing:',
        '  routing_strategy: "payload_type_match"',
        '  handlers:',
        '    - handler: { name: "HandlerA" }',
        '    - operation: "register_node"',
        '      event_model: "ModelB"',
        '      handler: { name: "HandlerB" }',
      ),
    );
    expect(issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([
      ['CONTRACT_MISSING_FIELD', 'handler_routing.handlers[0].event_model', 10],
      ['CONTRACT_INVALID_VALUE', 'handler_routing.handlers[1].operation', 11],
    ]);
    expect(issues[0]?.message).toContain('"event_model" or "payload_type"');
  });

  it('rejects two routes for the same operation (CONTRACT_DUPLICATE_ROUTE)', () => {
    const issues = rejected(
      lines(
        ...head,
        'handler_routing:',
        '  routing_strategy: "operation_match"',
        '  handlers:',
        '    - operation: "register_node"',
        '      handler: { name: "HandlerA" }',
        '    - operation: "register_node"',
        '      handler: { name: "HandlerB" }',
      ),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ ruleId: 'CONTRACT_DUPLICATE_ROUTE', line: 12, column: 18 });
    expect(issues[0]?.message).toContain('line 10');
  });

  it('rejects bad names, node types and missing fields together', () => {
    const issues = rejected(lines('node_version: "1.0"', 'name: "Sample-Node"', 'node_type: "effect"', 'input_model: { name: "ModelIn" }'));
    expect(issues.map((i) => [i.ruleId, i.path])).toEqual([
      ['CONTRACT_MISSING_FIELD', 'description'],
      ['CONTRACT_MISSING_FIELD', 'output_model'],
      ['CONTRACT_INVALID_VALUE', 'node_version'],
      ['CONTRACT_INVALID_VALUE', 'name'],
      ['CONTRACT_INVALID_VALUE', 'node_type'],
    ]);
    expect(issues.find((i) => i.path === 'node_version')?.hint).toContain('quoted semantic version');
    expect(issues.find((i) => i.path === 'node_type')?.hint).toContain('upper-case');
  });
});

describe('node io_operations against the handler catalog', () => {
  const effect = lines(
    'schema_version: "1.0.0"',
    'node_version: "1.0.0"',
    'name: "store_effect"',
    'node_type: "EFFECT"',
    'description: "d"',
    'input_model: { name: "In" }',
    'output_model: { name: "Out" }',
    'io_operations:',
    '  - type: "http"',
    '    operations: ["http.get", "http.fetch"]',
    '  - type: "db"',
    '    operations: ["db.query"]',
    'dependencies: []',
  );

  it('refuses an operation the handler does not offer (CONTRACT_UNKNOWN_OPERATION)', () => {
    const result = validateNodeContract(effect, { catalog: TEST_CATALOG });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([['CONTRACT_UNKNOWN_OPERATION', 'io_operations[0].operations[1]', 10]]);
    expect(result.issues[0]?.hint).toContain('http.get, http.post');
  });

  it('refuses a handler type the runtime does not enable (CONTRACT_HANDLER_NOT_ENABLED)', () => {
    const result = validateNodeContract(effect.replace('"http.get", "http.fetch"', '"http.get"'), { catalog: TEST_CATALOG, enabledHandlers: ['http'] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([['CONTRACT_HANDLER_NOT_ENABLED', 'io_operations[1].type', 11]]);
  });

  it('without a catalog checks only the structure', () => {
    expect(validateNodeContract(effect).ok).toBe(true);
  });
});
