import type { JsonObject } from '../json.js';
import type { TransportType } from '../enums/transport-type.js';
import type { OnexErrorCode } from './codes.js';
import type { OnexErrorOptions } from './onex-error.js';
import { RuntimeHostError } from './runtime-errors.js';

export interface InfraErrorOptions extends OnexErrorOptions {
  /** Which kind of system failed. */
  readonly transportType: TransportType;
  /** Safe name of the target (service name, host:port without credentials). */
  readonly target?: string;
}

/**
 * Base of transport-level failures. The transport type and target travel in `details`
 * (`transport_type`, `target`) so they reach the error envelope.
 */
export abstract class InfraError extends RuntimeHostError {
  readonly transportType: TransportType;

  constructor(message: string, options: InfraErrorOptions) {
    const details: JsonObject = { ...(options.details ?? {}), transport_type: options.transportType };
    if (options.target !== undefined) details.target = options.target;
    super(message, { ...options, details });
    this.transportType = options.transportType;
  }
}
/** Could not connect, or the connection dropped. Retryable. */
export class InfraConnectionError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_CONNECTION_ERROR';
}
/** The operation did not finish in time. Retryable. */
export class InfraTimeoutError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_TIMEOUT';
}
/** Credentials were missing or refused. Not retryable: fix the credentials. */
export class InfraAuthenticationError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_AUTHENTICATION_ERROR';
}
/** The server asked us to slow down. Retryable after a delay. */
export class InfraRateLimitedError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_RATE_LIMITED';
}
/** The service is up but cannot serve (sealed, no leader, circuit open). Retryable. */
export class InfraUnavailableError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_UNAVAILABLE';
}
/** A response exceeded the configured maximum size. */
export class InfraResponseTooLargeError extends InfraError {
  static override readonly defaultCode: OnexErrorCode = 'INFRA_RESPONSE_TOO_LARGE';
}
