/**
 * Structured handler validation failures (handler protocol ticket 8): what rule failed,
 * which handler, from which source, in which file, and how to fix it. A failure is a
 * ContractIssue plus the handler's identity, so the CLI prints it like any contract issue.
 */
import type { HandlerSourceType } from '../enums/handler-source-type.js';
import { ContractValidationError, type ContractIssue } from './contract-validation-error.js';

/** One handler validation failure (`rule_id`, `file:line` and `remediation_hint` come from ContractIssue). */
export interface HandlerValidationIssue extends ContractIssue {
  /** The handler's identity (`handler_db`), or its type when the identity is not known yet. */
  readonly handlerIdentity?: string | undefined;
  /** The handler source whose validation found the failure. */
  readonly sourceType: HandlerSourceType;
}

/**
 * Handler contracts, the handler source or a binding's secret references failed
 * validation. A ContractValidationError (code CONTRACT_VALIDATION_ERROR), so every tool
 * that prints contract issues prints these too; `failures` keeps the handler identity.
 */
export class HandlerValidationError extends ContractValidationError {
  readonly failures: readonly HandlerValidationIssue[];

  constructor(failures: readonly HandlerValidationIssue[], source = 'handler source') {
    super(failures, source);
    this.failures = failures;
  }
}
