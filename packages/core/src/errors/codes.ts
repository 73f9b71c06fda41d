/**
 * Every error code the system emits, in one place. The wire `error.code` of an error
 * envelope is always one of these. Per code, one row of facts:
 *
 * - `retryable`: whether sending the same envelope again may succeed.
 * - `httpStatus`: the HTTP status of an ingress answer that carries this error. The
 *   ingress reads it here and chooses none itself. (A response envelope a node or handler
 *   produced is answered 200 whatever its error: the HTTP exchange worked.) Codes raised
 *   only at start-up have 500, the status of a failure that is not the caller's.
 *
 * docs/envelope.md documents this table; a test in `@onex/core` keeps the two equal.
 */
export const ONEX_ERROR_CODES = {
  RUNTIME_HOST_ERROR: { retryable: false, httpStatus: 500 },
  INTERNAL_ERROR: { retryable: false, httpStatus: 500 },
  HANDLER_EXECUTION_ERROR: { retryable: false, httpStatus: 500 },
  EVENT_BUS_ERROR: { retryable: true, httpStatus: 503 },
  INVALID_OPERATION: { retryable: false, httpStatus: 400 },
  CONTRACT_VALIDATION_ERROR: { retryable: false, httpStatus: 500 },
  HANDLER_NOT_FOUND: { retryable: false, httpStatus: 404 },
  NODE_NOT_FOUND: { retryable: false, httpStatus: 404 },
  ENVELOPE_VALIDATION_ERROR: { retryable: false, httpStatus: 400 },
  PAYLOAD_VALIDATION_ERROR: { retryable: false, httpStatus: 400 },
  HANDLER_CONFIGURATION_ERROR: { retryable: false, httpStatus: 500 },
  SECRET_RESOLUTION_ERROR: { retryable: false, httpStatus: 500 },
  ARCHITECTURE_VIOLATION: { retryable: false, httpStatus: 500 },
  VERSION_INCOMPATIBLE: { retryable: false, httpStatus: 500 },
  // An upstream the host calls failed: a gateway's statuses, never the caller's own 401/413.
  INFRA_CONNECTION_ERROR: { retryable: true, httpStatus: 502 },
  INFRA_TIMEOUT: { retryable: true, httpStatus: 504 },
  INFRA_AUTHENTICATION_ERROR: { retryable: false, httpStatus: 502 },
  INFRA_RATE_LIMITED: { retryable: true, httpStatus: 429 },
  INFRA_UNAVAILABLE: { retryable: true, httpStatus: 503 },
  INFRA_RESPONSE_TOO_LARGE: { retryable: false, httpStatus: 502 },
  SHUTTING_DOWN: { retryable: true, httpStatus: 503 },
  EXECUTION_INTERRUPTED: { retryable: false, httpStatus: 500 },
  EXPIRED: { retryable: false, httpStatus: 504 },
  // The caller reused an envelope_id for a different request: its own mistake, a conflict with the first.
  IDEMPOTENCY_KEY_CONFLICT: { retryable: false, httpStatus: 409 },
  INGRESS_UNAUTHENTICATED: { retryable: false, httpStatus: 401 },
  INGRESS_FORBIDDEN: { retryable: false, httpStatus: 403 },
  INGRESS_ROUTE_NOT_FOUND: { retryable: false, httpStatus: 404 },
  INGRESS_METHOD_NOT_ALLOWED: { retryable: false, httpStatus: 405 },
  INGRESS_BODY_TOO_LARGE: { retryable: false, httpStatus: 413 },
  INGRESS_UNSUPPORTED_MEDIA_TYPE: { retryable: false, httpStatus: 415 },
  INGRESS_LOOP_DETECTED: { retryable: false, httpStatus: 508 },
  INGRESS_INSECURE_CONFIGURATION: { retryable: false, httpStatus: 500 },
  INGRESS_LISTEN_FAILED: { retryable: false, httpStatus: 500 },
} as const satisfies Record<string, { retryable: boolean; httpStatus: number }>;

export type OnexErrorCode = keyof typeof ONEX_ERROR_CODES;

export function isOnexErrorCode(value: unknown): value is OnexErrorCode {
  return typeof value === 'string' && Object.hasOwn(ONEX_ERROR_CODES, value);
}
