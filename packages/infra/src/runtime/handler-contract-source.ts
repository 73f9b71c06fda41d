/**
 * HandlerContractSource (handler protocol ticket 11): finds every `handler_contract.yaml`
 * below the configured paths, validates it, and turns it into a HandlerDescriptor whose
 * factory is the built-in implementation of its `handler_type`. A file never decides what
 * code runs; it only declares what the handler is. Broken files become structured
 * failures (collected and counted), never a crash.
 */
import { lstat, opendir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import {
  HANDLER_CONTRACT_FILE_NAME,
  validateHandlerContract,
  type ContractRuleId,
  type HandlerContract,
  type HandlerType,
  type HandlerValidationIssue,
} from '@onex/core';
import type { HandlerDescriptor, ProtocolHandlerSource } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { FileRegistry } from './file-registry.js';

/** A handler implementation the host ships, found by its handler type. */
export interface HandlerImplementation {
  readonly handlerType: HandlerType;
  /** The implementation's version; a contract's handler_version must be satisfied by it. */
  readonly handlerVersion: string;
  /** Every command the implementation supports; a contract may accept a subset. */
  readonly operations: readonly string[];
  readonly factory: HandlerDescriptor['factory'];
}

/** Finds the built-in implementation of a handler type; undefined when the host ships none. */
export type HandlerImplementationLookup = (handlerType: HandlerType) => HandlerImplementation | undefined;

/** The lookup over descriptors the host already ships (today: HandlerBootstrapSource's). */
export function implementationsFromDescriptors(descriptors: readonly HandlerDescriptor[]): HandlerImplementationLookup {
  const byType = new Map<HandlerType, HandlerImplementation>(
    descriptors.map((d) => [d.handlerType, { handlerType: d.handlerType, handlerVersion: d.handlerVersion, operations: d.commandsAccepted, factory: d.factory }]),
  );
  return (handlerType) => byType.get(handlerType);
}

/** Largest handler contract read; a real one is a few hundred bytes. @default 65536 */
export const DEFAULT_MAX_HANDLER_CONTRACT_BYTES = 64 * 1024;
/** Directory entries one contract path may hold before discovery refuses it. @default 10000 */
export const DEFAULT_MAX_SCANNED_ENTRIES = 10_000;

export interface HandlerContractSourceOptions {
  /** Directories (or single files) to scan; relative paths resolve from the working directory. */
  readonly contractPaths: readonly string[];
  readonly implementations: HandlerImplementationLookup;
  readonly logger?: Logger;
  /** @default DEFAULT_MAX_SCANNED_ENTRIES */
  readonly maxScannedEntries?: number;
  /** @default DEFAULT_MAX_HANDLER_CONTRACT_BYTES */
  readonly maxFileBytes?: number;
}

/** Everything one scan found. */
export interface HandlerContractDiscovery {
  /** Descriptors of the valid contracts, in file path order. */
  readonly descriptors: readonly HandlerDescriptor[];
  /** Every handler contract file found, valid or not. */
  readonly files: readonly string[];
  readonly failures: readonly HandlerValidationIssue[];
  /** The absolute paths scanned, for messages ("searched: ..."). */
  readonly searched: readonly string[];
}

interface Found {
  readonly file: string;
  readonly failure?: HandlerValidationIssue;
}

/** 1-based line of a top-level `key:` in the text, so post-parse checks can point at it. */
function lineOfKey(text: string, key: string): number | undefined {
  const index = text.split(/\r?\n/).findIndex((line) => new RegExp(`^${key}\\s*:`).test(line));
  return index < 0 ? undefined : index + 1;
}

function failure(ruleId: ContractRuleId, message: string, hint: string, file: string, extra: Partial<HandlerValidationIssue> = {}): HandlerValidationIssue {
  return { ruleId, severity: 'error', message, hint, file, sourceType: 'contract', ...extra };
}

/** Same major, and the implementation at least as new as the contract asks (pre-releases ignored). */
function satisfies(implementation: string, wanted: string): boolean {
  const parse = (v: string) => v.split(/[-+]/)[0]?.split('.').map(Number) ?? [];
  const [iMajor = 0, iMinor = 0, iPatch = 0] = parse(implementation);
  const [wMajor = 0, wMinor = 0, wPatch = 0] = parse(wanted);
  if (iMajor !== wMajor) return false;
  return iMinor !== wMinor ? iMinor > wMinor : iPatch >= wPatch;
}

/** The handler source that reads handler contracts from the file system. */
export class HandlerContractSource implements ProtocolHandlerSource {
  readonly sourceType = 'contract' as const;
  readonly #options: HandlerContractSourceOptions;
  readonly #logger: Logger;
  #discovery: Promise<HandlerContractDiscovery> | undefined;

  constructor(options: HandlerContractSourceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Scans once (later calls share the result) and reports descriptors and failures. */
  discover(): Promise<HandlerContractDiscovery> {
    this.#discovery ??= this.#scan();
    return this.#discovery;
  }

  /** The valid descriptors; malformed contracts are left out and reported by {@link discover}. */
  async discoverHandlers(): Promise<readonly HandlerDescriptor[]> {
    return (await this.discover()).descriptors;
  }

  async #scan(): Promise<HandlerContractDiscovery> {
    const searched = this.#options.contractPaths.map((p) => path.resolve(p));
    const found = (await Promise.all(searched.map((root) => this.#find(root)))).flat();
    const failures: HandlerValidationIssue[] = found.flatMap((f) => (f.failure ? [f.failure] : []));
    const files = [...new Set(found.map((f) => f.file))].sort();
    const readable = found.filter((f) => !f.failure).map((f) => f.file);
    const descriptors: HandlerDescriptor[] = [];
    const byName = new Map<string, string>();
    const byType = new Map<string, string>();
    for (const file of [...new Set(readable)].sort()) {
      const result = await this.#load(file);
      if (!result.ok) {
        failures.push(...result.failures);
        continue;
      }
      const { descriptor, text } = result;
      const shown = descriptor.source ?? file;
      const identity = { handlerIdentity: descriptor.handlerName };
      const firstByName = byName.get(descriptor.handlerName);
      const firstByType = byType.get(descriptor.handlerType);
      if (firstByName !== undefined || firstByType !== undefined) {
        const [field, first] = firstByName !== undefined ? ['handler_name', firstByName] : ['handler_type', firstByType ?? ''];
        failures.push(
          failure('HANDLER_CONTRACT_DUPLICATE', `Handler contract repeats ${field} "${field === 'handler_name' ? descriptor.handlerName : descriptor.handlerType}" already declared in ${first}`, 'A runtime has one handler per name and per type: remove or merge one of the two contracts.', shown, {
            ...identity,
            line: lineOfKey(text, field),
          }),
        );
        continue;
      }
      byName.set(descriptor.handlerName, shown);
      byType.set(descriptor.handlerType, shown);
      descriptors.push(descriptor);
    }
    this.#logger.info(
      { handler_source: 'contract', contract_paths: searched, discovered_contract_count: files.length, validation_failure_count: failures.length },
      'handler contracts discovered',
    );
    for (const f of failures) this.#logger.warn({ rule_id: f.ruleId, file: f.file, line: f.line, handler: f.handlerIdentity }, f.message);
    return { descriptors: Object.freeze(descriptors), files, failures: Object.freeze(failures), searched };
  }

  /** Every handler contract below `root`; a missing root is simply empty. */
  async #find(root: string): Promise<Found[]> {
    let stat;
    try {
      stat = await lstat(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      return [{ file: root, failure: failure('HANDLER_CONTRACT_UNREADABLE', `Contract path cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`, 'Check runtime.handler_source.contract_paths.', FileRegistry.displayPath(root)) }];
    }
    if (stat.isFile()) return path.basename(root) === HANDLER_CONTRACT_FILE_NAME ? [{ file: root }] : [];
    const realRoot = await realpath(root);
    // withFileTypes reports a symbolic link as a link, so linked directories are never
    // entered; a linked contract file is read only if it resolves inside the root.
    // Walked lazily and bounded: a contract path of "/" must fail with a clear error, not
    // read the whole file system into memory at start-up.
    const maxEntries = this.#options.maxScannedEntries ?? DEFAULT_MAX_SCANNED_ENTRIES;
    const found: Found[] = [];
    let scanned = 0;
    for await (const entry of await opendir(realRoot, { recursive: true })) {
      scanned += 1;
      if (scanned > maxEntries) {
        return [
          {
            file: root,
            failure: failure(
              'HANDLER_CONTRACT_UNREADABLE',
              `Contract path holds more than ${maxEntries} entries; it is not scanned`,
              'Point runtime.handler_source.contract_paths at a directory that holds only handler contracts (e.g. "handlers").',
              FileRegistry.displayPath(root),
            ),
          },
        ];
      }
      if (entry.name !== HANDLER_CONTRACT_FILE_NAME) continue;
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile()) {
        found.push({ file });
      } else if (entry.isSymbolicLink()) {
        const target = await realpath(file).catch(() => undefined);
        const inside = target !== undefined && !path.relative(realRoot, target).startsWith('..') && !path.isAbsolute(path.relative(realRoot, target));
        found.push(
          inside
            ? { file: target }
            : {
                file,
                failure: failure('HANDLER_CONTRACT_UNREADABLE', 'Handler contract is a symbolic link that leads outside its contract path (or nowhere)', 'Copy the contract into the contract path instead of linking to a file outside it.', FileRegistry.displayPath(file)),
              },
        );
      }
    }
    return found;
  }

  async #load(file: string): Promise<{ ok: true; descriptor: HandlerDescriptor; text: string } | { ok: false; failures: HandlerValidationIssue[] }> {
    const shown = FileRegistry.displayPath(file);
    const max = this.#options.maxFileBytes ?? DEFAULT_MAX_HANDLER_CONTRACT_BYTES;
    let text: string;
    try {
      const { size } = await lstat(file);
      if (size > max) {
        return { ok: false, failures: [failure('HANDLER_CONTRACT_TOO_LARGE', `Handler contract is ${size} bytes; the limit is ${max}`, 'A handler contract is a short declaration: remove what does not belong in it.', shown)] };
      }
      text = await readFile(file, 'utf8');
    } catch (error) {
      return { ok: false, failures: [failure('HANDLER_CONTRACT_UNREADABLE', `Handler contract cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`, 'Check that it is a readable file.', shown)] };
    }
    const result = validateHandlerContract(text, { source: shown });
    if (!result.ok) {
      const name = /^handler_name\s*:\s*"?([a-z][a-z0-9_]*)"?\s*$/m.exec(text)?.[1];
      return { ok: false, failures: result.issues.filter((i) => i.severity === 'error').map((i) => ({ ...i, sourceType: 'contract' as const, handlerIdentity: name })) };
    }
    const checked = this.#checkImplementation(result.contract, text, shown);
    return checked.ok ? { ok: true, descriptor: checked.descriptor, text } : { ok: false, failures: checked.failures };
  }

  #checkImplementation(contract: HandlerContract, text: string, shown: string): { ok: true; descriptor: HandlerDescriptor } | { ok: false; failures: HandlerValidationIssue[] } {
    const identity = { handlerIdentity: contract.handlerName };
    const implementation = this.#options.implementations(contract.handlerType);
    if (!implementation) {
      return {
        ok: false,
        failures: [
          failure('HANDLER_CONTRACT_NO_IMPLEMENTATION', `This host ships no implementation for handler_type "${contract.handlerType}"`, contract.handlerType === 'local' ? 'The local handler exists only for development: use `onex-runtime-host dev`, or delete this contract.' : 'Use a handler_type this host implements (e.g. http, db), or remove this contract.', shown, {
            ...identity,
            line: lineOfKey(text, 'handler_type'),
          }),
        ],
      };
    }
    const failures: HandlerValidationIssue[] = [];
    const unknown = contract.commandsAccepted.filter((c) => !implementation.operations.includes(c));
    for (const command of unknown) {
      failures.push(
        failure('HANDLER_CONTRACT_UNKNOWN_COMMAND', `The ${contract.handlerType} handler does not support command "${command}"`, `Accept only commands the implementation supports: ${implementation.operations.join(', ')}.`, shown, {
          ...identity,
          line: lineOfKey(text, 'commands_accepted'),
          path: 'commands_accepted',
        }),
      );
    }
    if (!satisfies(implementation.handlerVersion, contract.handlerVersion)) {
      failures.push(
        failure('HANDLER_CONTRACT_VERSION_MISMATCH', `handler_version "${contract.handlerVersion}" is not satisfied by the shipped ${contract.handlerType} handler ${implementation.handlerVersion}`, `Declare a version with the same major, at most ${implementation.handlerVersion}, or upgrade the host.`, shown, {
          ...identity,
          line: lineOfKey(text, 'handler_version'),
          path: 'handler_version',
        }),
      );
    }
    if (failures.length > 0) return { ok: false, failures };
    return {
      ok: true,
      descriptor: Object.freeze({
        handlerName: contract.handlerName,
        handlerVersion: contract.handlerVersion,
        handlerType: contract.handlerType,
        category: contract.category,
        isAdapter: contract.isAdapter,
        capabilities: contract.capabilities,
        commandsAccepted: contract.commandsAccepted,
        factory: implementation.factory,
        security: contract.security,
        observabilityLevel: contract.observabilityLevel,
        source: shown,
      }),
    };
  }
}
