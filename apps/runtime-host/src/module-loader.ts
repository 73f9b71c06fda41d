/**
 * Imports the node code that node contracts name (`implementation: { module, export }`),
 * and nothing else. A module path only ever comes from a contract file the operator
 * deployed, never from an envelope. Before importing, each module must resolve inside the
 * allowed roots (the runtime contract's directory tree plus `runtime.modules.allowed_roots`)
 * or be a package `runtime.modules.allowed_packages` lists, and must match its pinned
 * SHA-256. Every refusal is a contract issue at the node contract's `file:line`, with the
 * spec's HANDLER_LOADER_* rule id and a hint, so `validate`, `run --dry-run` and `run`
 * report the same thing.
 *
 * What it cannot promise: the hash covers the module file, not the files it imports, and
 * a writer who can change the file between the hash check and the import can swap it.
 * Modules run in the host's process with its privileges (docs/writing-a-node.md).
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { sanitizeMessage, type ContractIssue, type ContractRuleId, type ImplementationRef } from '@onex/core';
import { resolve as resolveSpecifier } from 'import-meta-resolve';

/** One `implementation` of one node contract to load. */
export interface ModuleRequest {
  readonly node: string;
  readonly ref: ImplementationRef;
  /** Absolute path of the node contract naming it: relative modules resolve from its directory. */
  readonly contractFile: string;
  /** The node contract's path as shown in issues. */
  readonly displayFile: string;
  /** Where the `implementation` mapping is in the contract (`['implementation']`, or a route's). */
  readonly at: readonly (string | number)[];
  /** 1-based line of a path in the node contract. */
  readonly lineOf: (at: readonly (string | number)[]) => number | undefined;
}

/** Where modules may come from; see ModulesConfig in @onex/core. */
export interface ModulePolicy {
  /** Absolute directories; a module file (and its real path) must be inside one. */
  readonly roots: readonly string[];
  readonly packages: readonly string[];
  /** Missing `sha256` is an error (production with `require_integrity`), a warning (elsewhere with it), or fine. */
  readonly missingHash: 'error' | 'warning' | 'allowed';
}

/** What was loaded, for the start-up log and `describe`. */
export interface LoadedModule {
  readonly node: string;
  /** The contract path of the implementation, e.g. `implementation` or `handler_routing.handlers[1].implementation`. */
  readonly at: string;
  readonly module: string;
  /** The file imported (relative to the working directory when below it). */
  readonly file: string;
  readonly export: string;
  /** The file's actual SHA-256, pinned or not. */
  readonly sha256: string;
  readonly pinned: boolean;
}

export interface ModuleLoadResult {
  /** The export each ref resolved to: what `createNodeFromContract` takes as `NodeCode.modules`. */
  readonly modules: ReadonlyMap<ImplementationRef, unknown>;
  readonly loaded: readonly LoadedModule[];
  readonly issues: readonly ContractIssue[];
}

const URL_SPECIFIER_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

function formatAt(at: readonly (string | number)[]): string {
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function isInside(file: string, root: string): boolean {
  const relative = path.relative(root, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** `@acme/pricing/sub` → `@acme/pricing`; `lodash/fp` → `lodash`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

class Refusal extends Error {
  constructor(
    readonly ruleId: ContractRuleId,
    message: string,
    readonly hint: string,
    readonly field: 'module' | 'export' | 'sha256',
  ) {
    super(message);
  }
}

/** The file a module specifier names, or a refusal saying why it may not be loaded. */
async function locate(request: ModuleRequest, policy: ModulePolicy): Promise<{ file: string; fromPackage: boolean }> {
  const specifier = request.ref.module;
  const rootsText = policy.roots.map(displayPath).join(', ');
  if (URL_SPECIFIER_RE.test(specifier)) {
    throw new Refusal('HANDLER_LOADER_013', `Module "${specifier}" is a URL; node code is only loaded from files on disk`, 'Point module at a file path relative to this node contract (e.g. "./logic/pricing.js"), or at a package listed in runtime.modules.allowed_packages.', 'module');
  }
  const isPath = specifier.startsWith('./') || specifier.startsWith('../') || path.isAbsolute(specifier) || specifier === '.' || specifier === '..';
  if (!isPath) {
    const name = packageNameOf(specifier);
    if (!policy.packages.includes(name)) {
      throw new Refusal('HANDLER_LOADER_013', `Package "${name}" is not in runtime.modules.allowed_packages`, `Add "${name}" to runtime.modules.allowed_packages in the runtime contract, or use a relative path ("./${specifier}") for a file of your own.`, 'module');
    }
    try {
      return { file: fileURLToPath(resolveSpecifier(specifier, pathToFileURL(request.contractFile).href)), fromPackage: true };
    } catch (error) {
      throw new Refusal('HANDLER_LOADER_010', `Package module "${specifier}" cannot be resolved from ${request.displayFile}: ${firstLine(error)}`, `Install "${name}" where the contract can reach it (npm install ${name} next to the runtime contract), and check that it exports "${specifier}".`, 'module');
    }
  }
  const file = path.resolve(path.dirname(request.contractFile), specifier);
  if (!policy.roots.some((root) => isInside(file, root))) {
    const traversal = !path.isAbsolute(specifier);
    throw new Refusal(
      'HANDLER_LOADER_013',
      traversal ? `Module "${specifier}" climbs out of the allowed roots (it resolves to ${displayPath(file)})` : `Module "${specifier}" is an absolute path outside the allowed roots`,
      `Modules must live under ${rootsText}. Move the file there, or add its directory to runtime.modules.allowed_roots.`,
      'module',
    );
  }
  return { file, fromPackage: false };
}

/** The file's real path, after checking it exists and, for files of the contract tree, that no symlink leads out. */
async function checkFile(request: ModuleRequest, policy: ModulePolicy, file: string, fromPackage: boolean): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new Refusal('HANDLER_LOADER_010', `Module "${request.ref.module}" not found (looked for ${displayPath(file)})`, 'Check the path (it resolves from the node contract\'s directory) and that the module was built, e.g. npm run build.', 'module');
  }
  if (!info.isFile()) throw new Refusal('HANDLER_LOADER_010', `Module "${request.ref.module}" is not a file (${displayPath(file)})`, 'Point module at the JavaScript file itself, e.g. "../dist/pricing.js".', 'module');
  const real = await realpath(file);
  if (fromPackage) return real;
  const realRoots = await Promise.all(policy.roots.map((root) => realpath(root).catch(() => root)));
  if (!realRoots.some((root) => isInside(real, root))) {
    throw new Refusal('HANDLER_LOADER_013', `Module "${request.ref.module}" is a symbolic link (or under one) that leads out of the allowed roots, to ${real}`, 'Copy the module into the contract\'s directory tree instead of linking to it, or add the target directory to runtime.modules.allowed_roots.', 'module');
  }
  return real;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // A module's own error text reaches the operator's console: never a stack, never a credential.
  return sanitizeMessage(text.split('\n')[0] ?? text).slice(0, 300);
}

/** Imports every requested module once and picks its export; collects every refusal. */
export async function loadNodeModules(requests: readonly ModuleRequest[], policy: ModulePolicy): Promise<ModuleLoadResult> {
  const modules = new Map<ImplementationRef, unknown>();
  const loaded: LoadedModule[] = [];
  const issues: ContractIssue[] = [];
  const imports = new Map<string, Promise<Record<string, unknown>>>();
  for (const request of requests) {
    const issueOf = (ruleId: ContractRuleId, message: string, hint: string, field: Refusal['field'], severity: 'error' | 'warning' = 'error'): ContractIssue => ({
      ruleId,
      severity,
      message: `Node "${request.node}": ${message}`,
      hint,
      file: request.displayFile,
      line: request.lineOf([...request.at, field]) ?? request.lineOf(request.at),
      path: formatAt([...request.at, field]),
    });
    try {
      const { file, fromPackage } = await locate(request, policy);
      const real = await checkFile(request, policy, file, fromPackage);
      const sha256 = createHash('sha256').update(await readFile(real)).digest('hex');
      const pinned = request.ref.sha256;
      if (pinned !== undefined && pinned !== sha256) {
        throw new Refusal('HANDLER_LOADER_014', `Module "${request.ref.module}" has SHA-256 ${sha256}, but the contract pins ${pinned}`, 'If the module was rebuilt on purpose, pin its new hash (sha256sum <file>); otherwise find out who changed it before starting the host.', 'sha256');
      }
      if (pinned === undefined && policy.missingHash !== 'allowed') {
        issues.push(issueOf('HANDLER_LOADER_015', `Module "${request.ref.module}" has no sha256, and runtime.modules.require_integrity is on`, `Pin it: sha256: "${sha256}" (the hash of ${displayPath(real)} now).`, 'module', policy.missingHash));
        // Refused in production: never imported. Elsewhere a warning, and the module loads.
        if (policy.missingHash === 'error') continue;
      }
      // Imported from the real path that was just hashed; one import per file, whatever the exports asked of it.
      let imported = imports.get(real);
      if (imported === undefined) {
        imported = import(pathToFileURL(real).href) as Promise<Record<string, unknown>>;
        imports.set(real, imported);
      }
      let namespace: Record<string, unknown>;
      try {
        namespace = await imported;
      } catch (error) {
        throw new Refusal('HANDLER_LOADER_012', `Module "${request.ref.module}" failed while it was imported: ${firstLine(error)}`, 'Fix the error in the module (or a module it imports); run `node <file>` to see it in full. Its top-level code runs at validate and at start.', 'module');
      }
      const name = request.ref.export;
      if (!(name in namespace)) {
        const available = Object.keys(namespace);
        throw new Refusal('HANDLER_LOADER_011', `Module "${request.ref.module}" has no export "${name}"`, `Its exports: ${available.join(', ') || '(none)'}. Set implementation.export to one of them${name === 'default' ? ' (export defaults to "default")' : ''}.`, 'export');
      }
      modules.set(request.ref, namespace[name]);
      loaded.push({ node: request.node, at: formatAt(request.at), module: request.ref.module, file: displayPath(real), export: name, sha256, pinned: pinned !== undefined });
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      issues.push(issueOf(error.ruleId, error.message, error.hint, error.field));
    }
  }
  return { modules, loaded, issues };
}
