import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  ContractValidationError,
  type HandlerCatalog,
  validateNodeContract,
  validateRuntimeHostContract,
  type ContractIssue,
  type NodeContract,
  type RuntimeHostContract,
  type ValidationResult,
} from '@onex/core';

import { HANDLER_CATALOG } from '../handlers/registry.js';

/**
 * Largest contract file read (256 KiB). Real contracts are a few KiB; the cap keeps a
 * wrong path (a log, a dump) or a hostile file from being read whole and parsed.
 */
export const MAX_CONTRACT_FILE_BYTES = 256 * 1024;

/** A contract read from a file, with the file it came from. */
export interface LoadedContract<T> {
  readonly file: string;
  readonly contract: T;
  readonly warnings: readonly ContractIssue[];
}

function tooLargeIssue(file: string, size: number): ContractIssue {
  return {
    ruleId: 'CONTRACT_FILE_TOO_LARGE',
    severity: 'error',
    message: `Contract file is ${size} bytes; contracts are limited to ${MAX_CONTRACT_FILE_BYTES} bytes (256 KiB) and it was not parsed`,
    hint: 'Check that the path names a contract; split a very large runtime into several hosts, or move long texts out of the contract.',
    file,
  };
}

/** Reads a file as UTF-8 unless it is over the cap: its size is checked before anything is read. */
async function readCapped(file: string): Promise<{ text: string } | { size: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_CONTRACT_FILE_BYTES) return { size };
    return { text: await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}

function fileIssue(file: string, error: unknown): ContractIssue {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? { ruleId: 'CONTRACT_FILE_NOT_FOUND', severity: 'error', message: 'Contract file not found', hint: "Check the path; relative node contract paths resolve from the runtime contract's directory.", file }
    : { ruleId: 'CONTRACT_FILE_UNREADABLE', severity: 'error', message: `Contract file cannot be read (${code ?? 'unknown error'})`, hint: 'Check that it is a readable file.', file };
}

/**
 * Reads contracts from the file system; core parses them. Absolute paths are used as
 * they are, relative ones resolve from `baseDir`; symbolic links are followed; `~` is
 * not expanded. Every problem comes back at once as a ContractValidationError.
 */
export class FileRegistry {
  readonly baseDir: string;

  readonly #catalog: HandlerCatalog;

  /**
   * @param baseDir where relative paths resolve from. @default the current directory
   * @param catalog the handler types contracts may use. @default HANDLER_CATALOG (the registry)
   */
  constructor(baseDir: string = process.cwd(), catalog: HandlerCatalog = HANDLER_CATALOG) {
    this.baseDir = baseDir;
    this.#catalog = catalog;
  }

  resolve(file: string): string {
    return path.resolve(this.baseDir, file);
  }

  /** How a file is named in issues: relative to the working directory when it is below it. */
  static displayPath(resolved: string): string {
    const relative = path.relative(process.cwd(), resolved);
    return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? resolved : relative;
  }

  /**
   * Reads and validates one node contract; never throws (issues instead). Its io
   * operations are checked against the catalog, and, given `enabledHandlers` (from the
   * runtime contract), against the handlers the runtime enables.
   */
  async check(file: string, options: { enabledHandlers?: readonly string[] } = {}): Promise<ValidationResult<NodeContract> & { file: string }> {
    return this.#validateFile(file, (text, source) => validateNodeContract(text, { source, catalog: this.#catalog, enabledHandlers: options.enabledHandlers }));
  }

  /** Reads `file` and validates its text; an unreadable file becomes an issue, not a throw. */
  async #validateFile<T>(
    file: string,
    validate: (text: string, source: string) => ValidationResult<T>,
  ): Promise<ValidationResult<T> & { file: string }> {
    const resolved = this.resolve(file);
    const source = FileRegistry.displayPath(resolved);
    let read: Awaited<ReturnType<typeof readCapped>>;
    try {
      read = await readCapped(resolved);
    } catch (error) {
      return { ok: false, issues: [fileIssue(source, error)], file: resolved };
    }
    if (!('text' in read)) return { ok: false, issues: [tooLargeIssue(source, read.size)], file: resolved };
    return { ...validate(read.text, source), file: resolved };
  }

  /** Loads one node contract. @throws ContractValidationError with every issue */
  async load(file: string): Promise<LoadedContract<NodeContract>> {
    const result = await this.check(file);
    if (!result.ok) throw new ContractValidationError(result.issues, result.file);
    return { file: result.file, contract: result.contract, warnings: result.warnings };
  }

  /**
   * Loads every `*.yaml` / `*.yml` node contract in `directory`, in name order. Fails
   * on any invalid file, reporting the problems of all of them.
   */
  async loadAll(directory: string): Promise<LoadedContract<NodeContract>[]> {
    const dir = this.resolve(directory);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
    } catch (error) {
      throw new ContractValidationError([fileIssue(dir, error)], dir);
    }
    const results = await Promise.all(names.map((n) => this.check(path.join(dir, n))));
    const issues = results.flatMap((r) => (r.ok ? [] : r.issues));
    if (issues.length > 0) throw new ContractValidationError(issues, dir);
    return results.flatMap((r) => (r.ok ? [{ file: r.file, contract: r.contract, warnings: r.warnings }] : []));
  }

  /** Reads and validates a runtime host contract; never throws (issues instead). */
  async checkRuntime(file: string, options: { allowDevHandlers?: boolean } = {}): Promise<ValidationResult<RuntimeHostContract> & { file: string }> {
    const allowDevHandlers = options.allowDevHandlers ?? false;
    return this.#validateFile(file, (text, source) => validateRuntimeHostContract(text, { source, allowDevHandlers, catalog: this.#catalog }));
  }
}
