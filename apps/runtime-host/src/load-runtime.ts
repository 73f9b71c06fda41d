import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContractValidationError,
  createNodeFromContract,
  validateNodeContract,
  validateRuntimeHostContract,
  type ContractIssue,
  type NodeContract,
  type NodeImplementations,
  type NodeInstance,
  type RuntimeHostContract,
} from '@onex/core';

export interface LoadedNode {
  readonly slug: string;
  readonly source: string;
  readonly contract: NodeContract;
}

export type LoadResult =
  | { readonly ok: true; readonly contract: RuntimeHostContract; readonly nodes: readonly LoadedNode[]; readonly warnings: readonly ContractIssue[] }
  | { readonly ok: false; readonly issues: readonly ContractIssue[] };

async function readText(file: string): Promise<{ text: string } | { issue: ContractIssue }> {
  try {
    return { text: await readFile(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      issue: {
        ruleId: code === 'ENOENT' ? 'CONTRACT_FILE_NOT_FOUND' : 'CONTRACT_FILE_UNREADABLE',
        severity: 'error',
        message: code === 'ENOENT' ? 'Contract file not found' : `Contract file cannot be read (${code ?? 'unknown error'})`,
        hint: code === 'ENOENT' ? 'Check the path; relative node contract paths are resolved from the runtime contract\'s directory.' : 'Check the file permissions.',
        file,
      },
    };
  }
}

/**
 * Loads a runtime host contract and every node contract it references (relative paths
 * resolve from the runtime contract's directory; a node without a `contract` path is
 * looked up as `nodes/<slug>.yaml`). Every problem in every file is collected.
 */
export async function loadRuntime(contractPath: string, options: { allowDevHandlers: boolean }): Promise<LoadResult> {
  const read = await readText(contractPath);
  if ('issue' in read) return { ok: false, issues: [read.issue] };
  const result = validateRuntimeHostContract(read.text, { source: contractPath, allowDevHandlers: options.allowDevHandlers });
  if (!result.ok) return { ok: false, issues: result.issues };
  const issues: ContractIssue[] = [];
  const warnings: ContractIssue[] = [...result.warnings];
  const nodes: LoadedNode[] = [];
  const base = path.dirname(contractPath);
  for (const ref of result.contract.runtime.nodes) {
    const source = path.resolve(base, ref.contract ?? path.join('nodes', `${ref.slug}.yaml`));
    const nodeText = await readText(source);
    if ('issue' in nodeText) {
      issues.push({ ...nodeText.issue, message: `Node "${ref.slug}": ${nodeText.issue.message}`, file: source });
      continue;
    }
    const node = validateNodeContract(nodeText.text, { source });
    if (!node.ok) issues.push(...node.issues);
    else {
      warnings.push(...node.warnings);
      nodes.push({ slug: ref.slug, source, contract: node.contract });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, contract: result.contract, nodes, warnings };
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
