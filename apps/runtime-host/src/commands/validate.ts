import { readFile } from 'node:fs/promises';
import { formatIssue, type ContractIssue } from '@onex/core';
import { FileRegistry } from '@onex/infra';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { loadRuntime, looksLikeRuntimeContract } from '../load-runtime.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `validate FILE...`: checks runtime host contracts (with the node contracts they
 * reference) and standalone node contracts. Prints every problem with file:line,
 * rule id and hint; exit 0 when all are valid, 1 otherwise.
 */
export async function validateCommand(files: readonly string[], options: { dev: boolean; production?: boolean }, io: Output): Promise<ExitCode> {
  let failed = 0;
  for (const file of files) {
    let issues: readonly ContractIssue[];
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined || looksLikeRuntimeContract(text)) {
      // Builds the nodes as run does: their modules are imported, so their top-level code runs.
      const result = await loadRuntime(file, { allowDevHandlers: options.dev, production: options.production ?? false });
      issues = result.ok ? result.warnings : result.issues;
    } else {
      // Through the registry: the size cap and the handler catalog apply to node files too.
      const result = await new FileRegistry().check(file);
      issues = result.ok ? result.warnings : result.issues;
    }
    const errors = issues.filter((i) => i.severity === 'error');
    for (const issue of issues) (issue.severity === 'error' ? io.err : io.out)(formatIssue(issue));
    if (errors.length > 0) {
      failed += 1;
      io.err(`✗ ${file}: ${errors.length} error(s)`);
    } else {
      io.out(`✓ ${file}: valid${issues.length > 0 ? ` (${issues.length} warning(s))` : ''}`);
    }
  }
  return failed > 0 ? EXIT.CONTRACT_INVALID : EXIT.OK;
}
