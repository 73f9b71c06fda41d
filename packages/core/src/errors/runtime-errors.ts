import type { ArchitectureRuleId } from './architecture-rules.js';
import type { OnexErrorCode } from './codes.js';
import { OnexError, type OnexErrorOptions } from './onex-error.js';

/** Base for every error raised by the runtime host and its parts. */
export class RuntimeHostError extends OnexError {
  static override readonly defaultCode: OnexErrorCode = 'RUNTIME_HOST_ERROR';
}
/**
 * An unexpected failure: a bug or a failure nobody mapped to a typed error. `toOnexError`
 * wraps anything raw in one of these.
 */
export class InternalError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INTERNAL_ERROR';
}
/** The host, a handler or the bus is stopping and accepts no more work. Retryable elsewhere. */
export class ShuttingDownError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'SHUTTING_DOWN';
}
/** A handler failed while executing an operation. */
export class HandlerExecutionError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'HANDLER_EXECUTION_ERROR';
}
/** The event bus could not publish, subscribe or consume. */
export class EventBusError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'EVENT_BUS_ERROR';
}
/** A handler or node was asked for an operation it does not support or may not call. */
export class InvalidOperationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INVALID_OPERATION';
}
/** No handler is registered for the envelope's handler type. */
export class HandlerNotFoundError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'HANDLER_NOT_FOUND';
}
/** No node is registered under the envelope's target node slug. */
export class NodeNotFoundError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'NODE_NOT_FOUND';
}
/** An incoming message is not a valid envelope. */
export class EnvelopeValidationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'ENVELOPE_VALIDATION_ERROR';
}
/**
 * A payload breaks the input model its node declares (the contract's `input_model`, or
 * the `input` schema of the node's definition). The node never ran.
 */
export class PayloadValidationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'PAYLOAD_VALIDATION_ERROR';
}
/** A handler's configuration is invalid (duplicate type, bad option, ...). */
export class HandlerConfigurationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'HANDLER_CONFIGURATION_ERROR';
}
/** A secret reference could not be resolved. */
export class SecretResolutionError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'SECRET_RESOLUTION_ERROR';
}
export interface ArchitectureViolationOptions extends OnexErrorOptions {
  /** Which rule was broken; travels as `rule_id` in the error envelope. */
  readonly ruleId: ArchitectureRuleId;
}

/** Code broke an architectural rule at run time (e.g. a handler tried to publish). */
export class ArchitectureViolationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'ARCHITECTURE_VIOLATION';
  readonly ruleId: ArchitectureRuleId;

  constructor(message: string, options: ArchitectureViolationOptions) {
    super(message, { ...options, details: { ...(options.details ?? {}), rule_id: options.ruleId } });
    this.ruleId = options.ruleId;
  }
}
/** Installed package versions do not satisfy the ranges the host requires. */
export class VersionCompatibilityError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'VERSION_INCOMPATIBLE';
}
/**
 * An earlier execution of this envelope was cut off (its host died mid-call), so whether
 * its side effects happened is unknown. Not retryable: a person decides.
 */
export class ExecutionInterruptedError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'EXECUTION_INTERRUPTED';
}
/**
 * The envelope's deadline (`ttl_seconds` after its `timestamp`, or `metadata.deadline`)
 * passed before its work was done: it was not executed, or its handler call was cancelled.
 * Not retryable: the same envelope is just as late again.
 */
export class EnvelopeExpiredError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'EXPIRED';
}
/**
 * The envelope's `envelope_id` was already used for a different request (another
 * operation, target, handler type or payload, compared by digest). It was not executed,
 * and the first request's answer is left as it was. Not retryable: the same envelope is
 * refused again; send it with a new `envelope_id`. HTTP 409 at the ingress.
 */
export class IdempotencyKeyConflictError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'IDEMPOTENCY_KEY_CONFLICT';
}
/**
 * The ingress needs a valid `Authorization: Bearer` token (HTTP 401). Not retryable: the
 * same request without the right token fails again.
 */
export class IngressUnauthenticatedError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_UNAUTHENTICATED';
}
/** The ingress refused the request as a browser cross-site request (HTTP 403). */
export class IngressForbiddenError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_FORBIDDEN';
}
/** No ingress route has this path (HTTP 404). */
export class IngressRouteNotFoundError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_ROUTE_NOT_FOUND';
}
/** The ingress route exists but not for this method (HTTP 405). */
export class IngressMethodNotAllowedError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_METHOD_NOT_ALLOWED';
}
/** The request body is larger than the ingress accepts (`maxBodyBytes`; HTTP 413). It was not read. */
export class IngressBodyTooLargeError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_BODY_TOO_LARGE';
}
/** The ingress only takes `application/json` bodies (HTTP 415). */
export class IngressUnsupportedMediaTypeError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_UNSUPPORTED_MEDIA_TYPE';
}
/** The request came from this very host (its own `x-onex-origin-host`): a loop (HTTP 508). */
export class IngressLoopDetectedError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_LOOP_DETECTED';
}
/** The ingress configuration would expose the host unsafely (e.g. a public address without tokens); refused at start. */
export class IngressInsecureConfigurationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_INSECURE_CONFIGURATION';
}
/**
 * The ingress could not listen on its address: the port is taken (`EADDRINUSE`), needs
 * privileges (`EACCES`), or the host is not an address of this machine (`EADDRNOTAVAIL`).
 * A start-up failure of the environment, not a bug: the message names the address and the
 * hint the setting to change. `details.reason` holds the system's error code.
 */
export class IngressListenFailedError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'INGRESS_LISTEN_FAILED';
}
