import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContractValidationError,
  createNodeFromContract,
  type ContractIssue,
  type ImplementationRef,
  type NodeContract,
  type NodeCode,
  type NodeImplementations,
  type NodeInstance,
  type RuntimeHostContract,
} from '@onex/core';
import { contractLocator } from '@onex/core/contract-kit';
import { FileRegistry, resolveHandlerSource, type Logger, type ResolvedHandlerSource } from '@onex/infra';
import { BUILTIN_IMPLEMENTATIONS } from './builtin-nodes.js';
import { loadNodeModules, type LoadedModule, type ModulePolicy, type ModuleRequest } from './module-loader.js';

export interface LoadedNode {
  readonly slug: string;
  /** The node contract's path as shown in issues. */
  readonly source: string;
  /** Its absolute path: implementation modules resolve from its directory. */
  readonly file: string;
  readonly contract: NodeContract;
  /** 1-based line of a path in the node contract, for issues and model errors. */
  readonly lineOf: (at: readonly (string | number)[]) => number | undefined;
}

export interface LoadOptions {
  readonly allowDevHandlers: boolean;
  /** ENVIRONMENT=prod: `runtime.modules.require_integrity` makes a missing module hash an error. @default false */
  readonly production?: boolean;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** The code node contracts may name by `handler.name`. @default BUILTIN_IMPLEMENTATIONS */
  readonly builtins?: NodeImplementations;
}

export type LoadResult =
  | {
      readonly ok: true;
      readonly contract: RuntimeHostContract;
      /** The nodes, built: their modules imported, their models compiled. */
      readonly nodes: readonly NodeInstance[];
      /** Each node's contract, by slug. */
      readonly nodeContracts: ReadonlyMap<string, NodeContract>;
      /** Every implementation module imported, for the start-up log and `describe`. */
      readonly modules: readonly LoadedModule[];
      readonly warnings: readonly ContractIssue[];
      /** The handler source `runtime.handler_source` resolves to; `run` registers exactly these descriptors. */
      readonly handlerSource: ResolvedHandlerSource;
      /** The contract's directory: `config_ref` files resolve from it and must stay inside it. */
      readonly contractDir: string;
      /** The contract's path as shown in messages, and its text (for line numbers), when readable. */
      readonly contractFile: string;
      readonly contractText: string | undefined;
    }
  | { readonly ok: false; readonly issues: readonly ContractIssue[] };

/**
 * Loads a runtime host contract and every node contract it references (relative paths
 * resolve from the runtime contract's directory; a node without a `contract` path is
 * looked up as `nodes/<slug>.yaml`), imports the modules the nodes name and builds the
 * nodes. `validate`, `run --dry-run` and `run` all go through here, so they reach one
 * verdict. Every problem in every file is collected.
 */
export async function loadRuntime(contractPath: string, options: LoadOptions): Promise<LoadResult> {
  const host = await new FileRegistry().checkRuntime(contractPath, options);
  if (!host.ok) return { ok: false, issues: host.issues };
  const registry = new FileRegistry(path.dirname(host.file));
  // A node may only use handlers this runtime enables: otherwise it validates but every call fails.
  const enabledHandlers = host.contract.runtime.handlers.filter((h) => h.enabled).map((h) => h.type);
  const issues: ContractIssue[] = [];
  const warnings: ContractIssue[] = [...host.warnings];
  const nodes: LoadedNode[] = [];
  for (const ref of host.contract.runtime.nodes) {
    const node = await registry.check(ref.contract ?? path.join('nodes', `${ref.slug}.yaml`), { enabledHandlers });
    if (!node.ok) {
      issues.push(...node.issues.map((i) => (i.ruleId === 'CONTRACT_FILE_NOT_FOUND' ? { ...i, message: `Node "${ref.slug}": ${i.message}` } : i)));
    } else {
      warnings.push(...node.warnings);
      // Read again only for line numbers; the registry just read and parsed it (size-capped).
      const locate = contractLocator(await readFile(node.file, 'utf8').catch(() => ''));
      nodes.push({ slug: ref.slug, source: FileRegistry.displayPath(node.file), file: node.file, contract: node.contract, lineOf: (at) => locate?.(at, 'key')?.line });
    }
  }
  // "No handlers: your nodes cannot perform I/O" is no news to a runtime whose nodes perform none.
  if (nodes.length > 0 && nodes.every((n) => n.contract.ioOperations.length === 0)) {
    warnings.splice(0, warnings.length, ...warnings.filter((w) => w.ruleId !== 'CONTRACT_EMPTY_HANDLERS'));
  }
  const contractText = await readFile(host.file, 'utf8').catch(() => undefined);
  const handlers = await loadHandlerSource(host.file, contractText, host.contract, options);
  if (!handlers.ok) issues.push(...handlers.failures);
  // Node code is imported only from a contract that is otherwise valid: its top-level code
  // runs, and a contract with other errors will not start anyway.
  if (issues.length > 0 || !handlers.ok) return { ok: false, issues };
  const contractDir = path.dirname(host.file);
  const code = await loadNodeModules(moduleRequests(nodes), modulePolicy(host.contract, contractDir, options.production ?? false));
  warnings.push(...code.issues.filter((i) => i.severity === 'warning'));
  const codeErrors = code.issues.filter((i) => i.severity === 'error');
  if (codeErrors.length > 0) return { ok: false, issues: [...codeErrors, ...warnings] };
  const built = buildNodes(nodes, { ...(options.builtins ?? BUILTIN_IMPLEMENTATIONS), modules: code.modules });
  if (built.issues.length > 0) return { ok: false, issues: built.issues };
  return {
    ok: true,
    contract: host.contract,
    nodes: built.nodes,
    nodeContracts: new Map(nodes.map((n) => [n.slug, n.contract])),
    modules: code.loaded,
    warnings,
    handlerSource: handlers.source,
    contractDir,
    contractFile: FileRegistry.displayPath(host.file),
    contractText,
  };
}

/** Every `implementation` the nodes name: the node's own and each route's. */
function moduleRequests(nodes: readonly LoadedNode[]): ModuleRequest[] {
  const requests: ModuleRequest[] = [];
  for (const n of nodes) {
    const add = (ref: ImplementationRef | undefined, at: readonly (string | number)[]) => {
      if (ref !== undefined) requests.push({ node: n.slug, ref, contractFile: n.file, displayFile: n.source, at, lineOf: n.lineOf });
    };
    add(n.contract.implementation, ['implementation']);
    n.contract.handlerRouting?.handlers.forEach((route, index) => add(route.implementation, ['handler_routing', 'handlers', index, 'implementation']));
  }
  return requests;
}

/** Where modules may come from: the contract's tree, the listed roots and packages. */
function modulePolicy(contract: RuntimeHostContract, contractDir: string, production: boolean): ModulePolicy {
  const m = contract.runtime.modules;
  return {
    roots: [contractDir, ...m.allowedRoots.map((root) => path.resolve(contractDir, root))],
    packages: m.allowedPackages,
    missingHash: !m.requireIntegrity ? 'allowed' : production ? 'error' : 'warning',
  };
}

/**
 * Discovers and validates the handler contracts during load, so `validate`, `run --dry-run`
 * and `run` reach one verdict (a malformed or missing handler contract is reported by all
 * three, with file:line). Contract paths resolve from the runtime contract's directory.
 */
async function loadHandlerSource(file: string, contractText: string | undefined, contract: RuntimeHostContract, options: LoadOptions) {
  return resolveHandlerSource({
    contract,
    contractDir: path.dirname(file),
    contractFile: FileRegistry.displayPath(file),
    // Only for line numbers in failures; the file was just read and parsed.
    contractText,
    allowDevHandlers: options.allowDevHandlers,
    logger: options.logger,
    now: options.now,
  });
}

/** Builds the node instances; a contract naming missing code, or code of the wrong kind, yields its issues. */
function buildNodes(loaded: readonly LoadedNode[], code: NodeCode): { nodes: NodeInstance[]; issues: ContractIssue[] } {
  const nodes: NodeInstance[] = [];
  const issues: ContractIssue[] = [];
  for (const n of loaded) {
    try {
      nodes.push(createNodeFromContract(n.slug, n.contract, code, { file: n.source, lineOf: n.lineOf }));
    } catch (error) {
      if (error instanceof ContractValidationError) issues.push(...error.issues);
      else throw error;
    }
  }
  return { nodes, issues };
}

/** Whether a YAML text is a runtime host contract (has a top-level `runtime:` key). */
export function looksLikeRuntimeContract(text: string): boolean {
  return /^runtime\s*:/m.test(text);
}
