import type { NodeContract } from '../contracts/node-contract-schema.js';
import { ContractValidationError, type ContractIssue } from '../errors/contract-validation-error.js';
import { InvalidOperationError } from '../errors/runtime-errors.js';
import type { JsonValue } from '../json.js';
import type { NodeInstance } from './node-instance.js';
import {
  ComputeNode,
  EffectNode,
  OrchestratorNode,
  ReducerNode,
  type ComputeContext,
  type OrchestratorNodeOptions,
  type ReducerNodeOptions,
} from './nodes.js';

/** A pure compute function a COMPUTE node contract can name in `handler_routing`. */
export type ComputeFunction = (input: JsonValue, context: ComputeContext) => JsonValue;

/**
 * The code behind declarative nodes, looked up by the `handler.name` a node contract's
 * `handler_routing` names. EFFECT nodes need none: their behaviour is their
 * `io_operations`.
 */
export interface NodeImplementations {
  readonly compute?: Readonly<Record<string, ComputeFunction>>;
  readonly reducers?: Readonly<Record<string, Omit<ReducerNodeOptions<JsonValue>, 'slug' | 'description'>>>;
  readonly orchestrators?: Readonly<Record<string, OrchestratorNodeOptions['orchestrate']>>;
}

function missing(kind: string, name: string, slug: string, available: readonly string[], source?: string): ContractValidationError {
  const issue: ContractIssue = {
    ruleId: 'CONTRACT_UNKNOWN_IMPLEMENTATION',
    severity: 'error',
    message: `Node "${slug}" routes to ${kind} "${name}", which is not registered`,
    hint: `Registered ${kind}s: ${available.join(', ') || '(none)'}. Register "${name}" with the host or fix handler_routing.`,
    file: source,
    path: 'handler_routing.handlers',
  };
  return new ContractValidationError([issue], source);
}

/**
 * Builds the node a contract declares. EFFECT → operations from `io_operations`;
 * COMPUTE → dispatches each operation to the compute function `handler_routing` names;
 * REDUCER / ORCHESTRATOR → the single implementation their routing names.
 *
 * @throws ContractValidationError when the contract names code that is not registered.
 */
export function createNodeFromContract(
  slug: string,
  contract: NodeContract,
  implementations: NodeImplementations = {},
  source?: string,
): NodeInstance {
  const routes = contract.handlerRouting?.handlers ?? [];
  switch (contract.nodeType) {
    case 'EFFECT':
      return new EffectNode({
        slug,
        description: contract.description,
        operations: contract.ioOperations.flatMap((io) => io.operations),
        access: Object.fromEntries(contract.ioOperations.flatMap((io) => io.operations.map((op) => [op, io.access]))),
      });
    case 'COMPUTE': {
      const registry = implementations.compute ?? {};
      const byOperation = new Map<string, ComputeFunction>();
      for (const route of routes) {
        const fn = registry[route.handler.name];
        if (!fn) throw missing('compute function', route.handler.name, slug, Object.keys(registry), source);
        byOperation.set(route.operation ?? '*', fn);
      }
      return new ComputeNode({
        slug,
        description: contract.description,
        compute: (input, context) => {
          const fn = byOperation.get(context.operation) ?? byOperation.get('*');
          if (!fn) {
            throw new InvalidOperationError(`Compute node "${slug}" has no route for operation "${context.operation}"`, {
              operation: context.operation,
              details: { node: slug, routed_operations: [...byOperation.keys()] },
              hint: `Send one of: ${[...byOperation.keys()].join(', ') || '(none)'}, or add a handler_routing entry.`,
            });
          }
          return fn(input, context);
        },
      });
    }
    case 'REDUCER': {
      const registry = implementations.reducers ?? {};
      const name = routes[0]?.handler.name ?? contract.name;
      const impl = registry[name];
      if (!impl) throw missing('reducer', name, slug, Object.keys(registry), source);
      return new ReducerNode({ slug, description: contract.description, ...impl });
    }
    case 'ORCHESTRATOR': {
      const registry = implementations.orchestrators ?? {};
      const name = routes[0]?.handler.name ?? contract.name;
      const orchestrate = registry[name];
      if (!orchestrate) throw missing('orchestrator', name, slug, Object.keys(registry), source);
      return new OrchestratorNode({ slug, description: contract.description, orchestrate });
    }
  }
}
