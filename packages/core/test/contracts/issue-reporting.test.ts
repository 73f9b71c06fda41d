import { describe, expect, it } from 'vitest';
import { ContractValidationError, formatIssue } from '../../src/errors/contract-validation-error.js';
import { CONTRACT_RULES, parseNodeContract } from '../../src/index.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { lines } from './spec-contracts.js';

/** One contract with a problem on almost every line. */
const BROKEN = lines(
  'runtime:', //                                 1
  '  name: "broken"', //                         2
  '  version: 1.0', //                           3  number, not a version string
  '  event_bus:', //                             4
  '    kind: "rabbitmq"', //                     5  not a bus kind
  '  handlers:', //                              6
  '    - type: "http"', //                       7
  '    - type: "http"', //                       8  duplicate
  '    - type: "ftp"', //                        9  unknown type
  '    - type: "local"', //                      10 dev only
  '  nodes:', //                                 11
  '    - slug: "a"', //                          12
  '    - slug: "a"', //                          13 duplicate
  '  colour: "blue"', //                         14 unknown field
);

describe('issue reporting', () => {
  it('reports every problem in one run, in file order', () => {
    const result = validateRuntimeHostContract(BROKEN, { source: 'contracts/broken.yaml' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.line, i.ruleId])).toEqual([
      [3, 'CONTRACT_INVALID_VALUE'],
      [5, 'CONTRACT_INVALID_VALUE'],
      [8, 'CONTRACT_DUPLICATE_HANDLER'],
      [9, 'CONTRACT_UNKNOWN_HANDLER_TYPE'],
      [10, 'CONTRACT_DEV_HANDLER_FORBIDDEN'],
      [13, 'CONTRACT_DUPLICATE_NODE'],
      [14, 'CONTRACT_UNKNOWN_FIELD'],
    ]);
    for (const issue of result.issues) {
      expect(issue.file).toBe('contracts/broken.yaml');
      expect(issue.hint.length).toBeGreaterThan(0);
      expect(Object.keys(CONTRACT_RULES)).toContain(issue.ruleId);
    }
    expect(result.issues[0]?.hint).toContain('Quote the value');
  });

  it('throws one ContractValidationError carrying every issue', () => {
    let caught: unknown;
    try {
      parseRuntimeHostContract(BROKEN, { source: 'contracts/broken.yaml' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ContractValidationError);
    if (!(caught instanceof ContractValidationError)) return;
    expect(caught.code).toBe('CONTRACT_VALIDATION_ERROR');
    expect(caught.issues).toHaveLength(7);
    expect(caught.message).toContain('contracts/broken.yaml failed validation with 7 error(s)');
    expect(caught.message).toContain('contracts/broken.yaml:9:13 error CONTRACT_UNKNOWN_HANDLER_TYPE at runtime.handlers[2].type: Unknown handler type "ftp"');
  });

  it('formats an issue as file:line:col with its rule, path, message and hint', () => {
    const result = validateRuntimeHostContract(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - type: "db"', '    - type: "db"', '  nodes: []'), {
      source: 'runtime.yaml',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const [issue] = result.issues;
    if (!issue) throw new Error('expected an issue');
    expect(formatIssue(issue)).toBe(
      'runtime.yaml:7:13 error CONTRACT_DUPLICATE_HANDLER at runtime.handlers[1].type: Handler type "db" is declared more than once (first at runtime.handlers[0], line 6)\n' +
        '  hint: Keep one handler per type: merge the settings into the first entry and remove this one.',
    );
  });

  it('uses <contract> as the location when no source is given', () => {
    expect(() => parseNodeContract('name: 1\n')).toThrow(/<contract>:1:7 error CONTRACT_INVALID_VALUE at name/);
  });
});
