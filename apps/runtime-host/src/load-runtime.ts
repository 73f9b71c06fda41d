import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContractValidationError,
  createNodeFromContract,
  type ContractIssue,
  type NodeContract,
  type NodeImplementations,
  type NodeInstance,
  type RuntimeHostContract,
} from '@onex/core';
import { FileRegistry, resolveHandlerSource, type Logger, type ResolvedHandlerSource } from '@onex/infra';

export interface LoadedNode {
  readonly slug: string;
  readonly source: string;
  readonly contract: NodeContract;
}

export type LoadResult =
  | {
      readonly ok: true;
      readonly contract: RuntimeHostContract;
      readonly nodes: readonly LoadedNode[];
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
 * looked up as `nodes/<slug>.yaml`). Every problem in every file is collected.
 */
export async function loadRuntime(contractPath: string, options: { allowDevHandlers: boolean; logger?: Logger; now?: () => Date }): Promise<LoadResult> {
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
      nodes.push({ slug: ref.slug, source: FileRegistry.displayPath(node.file), contract: node.contract });
    }
  }
  const contractText = await readFile(host.file, 'utf8').catch(() => undefined);
  const handlers = await loadHandlerSource(host.file, contractText, host.contract, options);
  if (!handlers.ok) issues.push(...handlers.failures);
  return issues.length > 0 || !handlers.ok
    ? { ok: false, issues }
    : { ok: true, contract: host.contract, nodes, warnings, handlerSource: handlers.source, contractDir: path.dirname(host.file), contractFile: FileRegistry.displayPath(host.file), contractText };
}

/**
 * Discovers and validates the handler contracts during load, so `validate`, `run --dry-run`
 * and `run` reach one verdict (a malformed or missing handler contract is reported by all
 * three, with file:line). Contract paths resolve from the runtime contract's directory.
 */
async function loadHandlerSource(file: string, contractText: string | undefined, contract: RuntimeHostContract, options: { allowDevHandlers: boolean; logger?: Logger; now?: () => Date }) {
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

/** Builds the node instances; a contract naming unregistered code yields its issues. */
export function buildNodes(
  loaded: readonly LoadedNode[],
  implementations: NodeImplementations,
): { nodes: NodeInstance[]; issues: ContractIssue[] } {
  const nodes: NodeInstance[] = [];
  const issues: ContractIssue[] = [];
  for (const n of loaded) {
    try {
      nodes.push(createNodeFromContract(n.slug, n.contract, implementations, n.source));
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
