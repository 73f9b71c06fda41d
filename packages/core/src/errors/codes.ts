/**
 * Every error code the system emits, in one place. The wire `error.code` of an error
 * envelope is always one of these; `retryable` says whether sending the same envelope
 * again may succeed.
 */
export const ONEX_ERROR_CODES = {
  RUNTIME_HOST_ERROR: { retryable: false },
  INTERNAL_ERROR: { retryable: false },
  HANDLER_EXECUTION_ERROR: { retryable: false },
  EVENT_BUS_ERROR: { retryable: true },
  INVALID_OPERATION: { retryable: false },
  CONTRACT_VALIDATION_ERROR: { retryable: false },
  HANDLER_NOT_FOUND: { retryable: false },
  NODE_NOT_FOUND: { retryable: false },
  ENVELOPE_VALIDATION_ERROR: { retryable: false },
  PAYLOAD_VALIDATION_ERROR: { retryable: false },
  HANDLER_CONFIGURATION_ERROR: { retryable: false },
  SECRET_RESOLUTION_ERROR: { retryable: false },
  ARCHITECTURE_VIOLATION: { retryable: false },
  VERSION_INCOMPATIBLE: { retryable: false },
  INFRA_CONNECTION_ERROR: { retryable: true },
  INFRA_TIMEOUT: { retryable: true },
  INFRA_AUTHENTICATION_ERROR: { retryable: false },
  INFRA_RATE_LIMITED: { retryable: true },
  INFRA_UNAVAILABLE: { retryable: true },
  INFRA_RESPONSE_TOO_LARGE: { retryable: false },
  SHUTTING_DOWN: { retryable: true },
  EXECUTION_INTERRUPTED: { retryable: false },
  EXPIRED: { retryable: false },
  INGRESS_UNAUTHENTICATED: { retryable: false },
  INGRESS_FORBIDDEN: { retryable: false },
  INGRESS_ROUTE_NOT_FOUND: { retryable: false },
  INGRESS_METHOD_NOT_ALLOWED: { retryable: false },
  INGRESS_UNSUPPORTED_MEDIA_TYPE: { retryable: false },
  INGRESS_LOOP_DETECTED: { retryable: false },
  INGRESS_INSECURE_CONFIGURATION: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type OnexErrorCode = keyof typeof ONEX_ERROR_CODES;

export function isOnexErrorCode(value: unknown): value is OnexErrorCode {
  return typeof value === 'string' && Object.hasOwn(ONEX_ERROR_CODES, value);
}
