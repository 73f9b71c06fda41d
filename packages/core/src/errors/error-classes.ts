/**
 * The one class of each error code. With `OnexError`'s constructor reading the code from
 * the class, this table makes class and code a single axis: the compiler insists every
 * code has a class, and a test insists each class carries its own code and no other.
 */
import type { OnexErrorCode } from './codes.js';
import { ContractValidationError } from './contract-validation-error.js';
import {
  InfraAuthenticationError,
  InfraConnectionError,
  InfraRateLimitedError,
  InfraResponseTooLargeError,
  InfraTimeoutError,
  InfraUnavailableError,
} from './infra-errors.js';
import type { OnexError } from './onex-error.js';
import {
  ArchitectureViolationError,
  EnvelopeValidationError,
  PayloadValidationError,
  EventBusError,
  EnvelopeExpiredError,
  ExecutionInterruptedError,
  HandlerConfigurationError,
  IdempotencyKeyConflictError,
  HandlerExecutionError,
  HandlerNotFoundError,
  IngressBodyTooLargeError,
  IngressForbiddenError,
  IngressInsecureConfigurationError,
  IngressListenFailedError,
  IngressLoopDetectedError,
  IngressMethodNotAllowedError,
  IngressRouteNotFoundError,
  IngressUnauthenticatedError,
  IngressUnsupportedMediaTypeError,
  InternalError,
  InvalidOperationError,
  NodeNotFoundError,
  RuntimeHostError,
  SecretResolutionError,
  ShuttingDownError,
  VersionCompatibilityError,
} from './runtime-errors.js';

/** An error class as the table holds it: its static code, and instances that are OnexErrors. */
export interface OnexErrorClass {
  readonly defaultCode: OnexErrorCode;
  readonly prototype: OnexError;
  readonly name: string;
}

export const ONEX_ERROR_CLASSES = {
  RUNTIME_HOST_ERROR: RuntimeHostError,
  INTERNAL_ERROR: InternalError,
  HANDLER_EXECUTION_ERROR: HandlerExecutionError,
  EVENT_BUS_ERROR: EventBusError,
  INVALID_OPERATION: InvalidOperationError,
  CONTRACT_VALIDATION_ERROR: ContractValidationError,
  HANDLER_NOT_FOUND: HandlerNotFoundError,
  NODE_NOT_FOUND: NodeNotFoundError,
  ENVELOPE_VALIDATION_ERROR: EnvelopeValidationError,
  PAYLOAD_VALIDATION_ERROR: PayloadValidationError,
  HANDLER_CONFIGURATION_ERROR: HandlerConfigurationError,
  SECRET_RESOLUTION_ERROR: SecretResolutionError,
  ARCHITECTURE_VIOLATION: ArchitectureViolationError,
  VERSION_INCOMPATIBLE: VersionCompatibilityError,
  INFRA_CONNECTION_ERROR: InfraConnectionError,
  INFRA_TIMEOUT: InfraTimeoutError,
  INFRA_AUTHENTICATION_ERROR: InfraAuthenticationError,
  INFRA_RATE_LIMITED: InfraRateLimitedError,
  INFRA_UNAVAILABLE: InfraUnavailableError,
  INFRA_RESPONSE_TOO_LARGE: InfraResponseTooLargeError,
  SHUTTING_DOWN: ShuttingDownError,
  EXECUTION_INTERRUPTED: ExecutionInterruptedError,
  EXPIRED: EnvelopeExpiredError,
  IDEMPOTENCY_KEY_CONFLICT: IdempotencyKeyConflictError,
  INGRESS_UNAUTHENTICATED: IngressUnauthenticatedError,
  INGRESS_FORBIDDEN: IngressForbiddenError,
  INGRESS_ROUTE_NOT_FOUND: IngressRouteNotFoundError,
  INGRESS_METHOD_NOT_ALLOWED: IngressMethodNotAllowedError,
  INGRESS_BODY_TOO_LARGE: IngressBodyTooLargeError,
  INGRESS_UNSUPPORTED_MEDIA_TYPE: IngressUnsupportedMediaTypeError,
  INGRESS_LOOP_DETECTED: IngressLoopDetectedError,
  INGRESS_INSECURE_CONFIGURATION: IngressInsecureConfigurationError,
  INGRESS_LISTEN_FAILED: IngressListenFailedError,
} as const satisfies Record<OnexErrorCode, OnexErrorClass>;
