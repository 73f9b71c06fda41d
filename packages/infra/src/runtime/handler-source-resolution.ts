/**
 * Builds the handler source a runtime contract asks for (`runtime.handler_source`):
 * contract mode (the default) reads handler contracts only; hybrid lets a contract win
 * per handler identity and fills the rest from bootstrap; bootstrap is an emergency
 * override that must be allowed explicitly and refuses to start once it has expired.
 * Every refusal is a structured failure with a rule id and a fix, so `validate`,
 * `run --dry-run` and `run` reach the same verdict from this one function.
 */
import path from 'node:path';
import {
  HandlerValidationError,
  type ContractRuleId,
  type HandlerSourceType,
  type HandlerValidationIssue,
  type RuntimeHostContract,
} from '@onex/core';
import { contractLocator } from '@onex/core/contract-kit';
import type { HandlerDescriptor, ProtocolHandlerSource } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { HandlerBootstrapSource } from './handler-bootstrap-source.js';
import { HandlerContractSource, implementationsFromDescriptors, type HandlerImplementationLookup } from './handler-contract-source.js';
import { bindingSecretFailures } from './handler-security.js';

export interface ResolveHandlerSourceOptions {
  readonly contract: RuntimeHostContract;
  /** Directory relative `contract_paths` resolve from: the runtime contract's. @default the working directory */
  readonly contractDir?: string | undefined;
  /** The runtime contract as shown in messages (its path). */
  readonly contractFile?: string | undefined;
  /** The runtime contract's text, so failures about it carry a line number. */
  readonly contractText?: string | undefined;
  /** The handlers compiled into the host. @default new HandlerBootstrapSource({ logger, includeDevHandlers: allowDevHandlers }) */
  readonly bootstrap?: ProtocolHandlerSource | undefined;
  /** Where a handler contract's implementation comes from. @default the bootstrap descriptors, by handler type */
  readonly implementations?: HandlerImplementationLookup | undefined;
  /** Offer the dev-only `local` handler. @default false */
  readonly allowDevHandlers?: boolean | undefined;
  /** Time for the bootstrap expiry gate. @default () => new Date() */
  readonly now?: (() => Date) | undefined;
  readonly logger?: Logger | undefined;
}

/** How many descriptors each source contributed. */
export interface HandlerSourceCounts {
  readonly contract: number;
  /** Bootstrap descriptors the host ships (consulted in bootstrap and hybrid mode). */
  readonly bootstrap: number;
  /** Bootstrap descriptors registered because no handler contract provides their identity. */
  readonly fallback: number;
}

export type HandlerSourceResolution =
  | { readonly ok: true; readonly source: ResolvedHandlerSource; readonly counts: HandlerSourceCounts }
  | { readonly ok: false; readonly failures: readonly HandlerValidationIssue[] };

/** The effective source: a fixed list of descriptors, resolved once at start-up. */
export class ResolvedHandlerSource implements ProtocolHandlerSource {
  readonly sourceType: HandlerSourceType;
  readonly descriptors: readonly HandlerDescriptor[];

  constructor(sourceType: HandlerSourceType, descriptors: readonly HandlerDescriptor[]) {
    this.sourceType = sourceType;
    this.descriptors = Object.freeze([...descriptors]);
  }

  async discoverHandlers(): Promise<readonly HandlerDescriptor[]> {
    return this.descriptors;
  }
}

/** Hybrid: a contract wins per identity; bootstrap fills in identities (and types) no contract provides. */
export function mergeHybrid(contracted: readonly HandlerDescriptor[], bootstrap: readonly HandlerDescriptor[]): { descriptors: HandlerDescriptor[]; fallback: HandlerDescriptor[] } {
  const names = new Set(contracted.map((d) => d.handlerName));
  // One handler per type: a contract for a type also replaces a bootstrap handler of that
  // type under another name, or the runtime would hold two.
  const types = new Set(contracted.map((d) => d.handlerType));
  const fallback = bootstrap.filter((d) => !names.has(d.handlerName) && !types.has(d.handlerType));
  return { descriptors: [...contracted, ...fallback], fallback };
}

/** Resolves the handler source; never throws for configuration problems (failures instead). */
export async function resolveHandlerSource(options: ResolveHandlerSourceOptions): Promise<HandlerSourceResolution> {
  const logger = options.logger ?? silentLogger;
  const settings = options.contract.runtime.handlerSource;
  const mode = settings.mode;
  const locate = options.contractText === undefined ? undefined : contractLocator(options.contractText);
  const at = (fieldPath: readonly (string | number)[], target: 'key' | 'value' = 'value') => {
    const position = locate?.(fieldPath, target);
    return {
      ...(options.contractFile !== undefined ? { file: options.contractFile } : {}),
      ...(position ? { line: position.line, column: position.column } : {}),
      path: fieldPath.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join(''),
    };
  };
  const fail = (ruleId: ContractRuleId, message: string, hint: string, where: ReturnType<typeof at>, handlerIdentity?: string): HandlerValidationIssue => ({
    ruleId,
    severity: 'error',
    message,
    hint,
    sourceType: mode,
    ...where,
    ...(handlerIdentity !== undefined ? { handlerIdentity } : {}),
  });
  const bootstrap = options.bootstrap ?? new HandlerBootstrapSource({ logger, includeDevHandlers: options.allowDevHandlers ?? false });
  const bootstrapDescriptors = await bootstrap.discoverHandlers();
  const modeAt = at(['runtime', 'handler_source', 'mode']);

  if (mode === 'bootstrap') {
    const expiresAt = settings.bootstrapExpiresAt;
    const expired = expiresAt !== undefined && Date.parse(expiresAt) <= (options.now ?? (() => new Date()))().getTime();
    logger.info(
      { handler_source_mode: mode, allow_bootstrap_override: settings.allowBootstrapOverride, bootstrap_expires_at: expiresAt ?? null, bootstrap_expired: expired },
      'handler source: bootstrap override requested',
    );
    if (!settings.allowBootstrapOverride) {
      return {
        ok: false,
        failures: [
          fail(
            'HANDLER_BOOTSTRAP_OVERRIDE_REQUIRED',
            'handler_source mode "bootstrap" is an emergency override and is not allowed',
            'Add handler contracts (handlers/<type>/handler_contract.yaml) and use mode: contract or hybrid; for an emergency only, set runtime.handler_source.allow_bootstrap_override: true with a bootstrap_expires_at.',
            modeAt,
          ),
        ],
      };
    }
    if (expired) {
      return {
        ok: false,
        failures: [
          fail(
            'HANDLER_BOOTSTRAP_OVERRIDE_EXPIRED',
            `The bootstrap override expired at ${expiresAt}; refusing to start in bootstrap mode`,
            'Switch to mode: contract (or hybrid) with handler contracts under handlers/<type>/handler_contract.yaml; extend bootstrap_expires_at only as a reviewed emergency decision.',
            at(['runtime', 'handler_source', 'bootstrap_expires_at']),
          ),
        ],
      };
    }
    logger.warn({ handler_source_mode: mode, bootstrap_expires_at: expiresAt ?? null }, 'bootstrap override active: handlers come from the host, not from handler contracts');
    return finish(mode, [...bootstrapDescriptors], { contract: 0, bootstrap: bootstrapDescriptors.length, fallback: 0 }, [], options, logger);
  }

  const baseDir = options.contractDir ?? process.cwd();
  const contractPaths = settings.contractPaths.map((p) => path.resolve(baseDir, p));
  const source = new HandlerContractSource({
    contractPaths,
    implementations: options.implementations ?? implementationsFromDescriptors(bootstrapDescriptors),
    logger,
  });
  const discovery = await source.discover();
  const failures: HandlerValidationIssue[] = discovery.failures.map((f) => ({ ...f, sourceType: mode }));
  let descriptors: HandlerDescriptor[] = [...discovery.descriptors];
  let counts: HandlerSourceCounts = { contract: descriptors.length, bootstrap: 0, fallback: 0 };
  if (mode === 'hybrid') {
    const merged = mergeHybrid(discovery.descriptors, bootstrapDescriptors);
    descriptors = merged.descriptors;
    counts = { contract: discovery.descriptors.length, bootstrap: bootstrapDescriptors.length, fallback: merged.fallback.length };
    for (const d of merged.fallback) logger.info({ handler_source_mode: mode, handler: d.handlerName, handler_type: d.handlerType }, 'no handler contract for this handler; using the bootstrap descriptor');
  }
  const provided = new Set(descriptors.map((d) => d.handlerType));
  const searched = contractPaths.join(', ');
  options.contract.runtime.handlers.forEach((binding, index) => {
    if (!binding.enabled || provided.has(binding.type)) return;
    failures.push(
      fail(
        'HANDLER_CONTRACT_MISSING',
        `No valid handler contract provides handler type "${binding.type}" (searched: ${searched})`,
        `${discovery.failures.length > 0 ? 'Fix the invalid handler contract(s) reported with this, or add' : 'Add'} handlers/${binding.type}/handler_contract.yaml (handler_type: "${binding.type}"; see docs/templates/) under a contract path${mode === 'contract' ? ', or set runtime.handler_source.mode: hybrid to fall back to the built-in handler' : ''}.`,
        at(['runtime', 'handlers', index, 'type']),
      ),
    );
  });
  return finish(mode, descriptors, counts, failures, options, logger);
}

function finish(
  mode: HandlerSourceType,
  descriptors: HandlerDescriptor[],
  counts: HandlerSourceCounts,
  earlier: HandlerValidationIssue[],
  options: ResolveHandlerSourceOptions,
  logger: Logger,
): HandlerSourceResolution {
  const failures = [...earlier, ...bindingSecretFailures(options.contract.runtime.handlers, descriptors, { sourceType: mode, file: options.contractFile })];
  logger.info(
    {
      handler_source_mode: mode,
      handler_count: descriptors.length,
      contract_handler_count: counts.contract,
      bootstrap_handler_count: counts.bootstrap,
      fallback_handler_count: counts.fallback,
      validation_failure_count: failures.length,
    },
    'handler source resolved',
  );
  if (failures.length > 0) return { ok: false, failures };
  return { ok: true, source: new ResolvedHandlerSource(mode, descriptors), counts };
}

/**
 * The handler source for a contract, for code that wires a host directly.
 * @throws HandlerValidationError carrying every failure.
 */
export async function handlerSourceFromContract(options: ResolveHandlerSourceOptions): Promise<ResolvedHandlerSource> {
  const resolution = await resolveHandlerSource(options);
  if (!resolution.ok) throw new HandlerValidationError(resolution.failures, options.contractFile ?? 'runtime.handler_source');
  return resolution.source;
}
