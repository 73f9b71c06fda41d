import {
  EventBusError,
  InfraAuthenticationError,
  InfraConnectionError,
  InfraTimeoutError,
  InfraUnavailableError,
  OnexError,
  type OnexErrorOptions,
} from '@onex/core';

/** kafkajs error names and broker error types, read structurally (no kafkajs import here). */
interface KafkaLikeError {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly message?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
}

const CONNECTION = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError', 'KafkaJSLockTimeout']);
const AUTH_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function innermost(error: KafkaLikeError): KafkaLikeError {
  let e = error;
  for (let i = 0; i < 5 && typeof e.cause === 'object' && e.cause !== null; i += 1) e = e.cause as KafkaLikeError;
  return e;
}

/**
 * Any failure from the Kafka client, as a typed infra error with the `kafka` transport type
 * and the brokers as target: connection → retryable connection error, timeouts → timeout,
 * authorization → authentication (not retryable), other retriable broker errors → unavailable.
 */
export function mapKafkaError(error: unknown, where: { action: string; target: string }): OnexError {
  if (error instanceof OnexError) return error;
  if (typeof error !== 'object' || error === null) {
    return new EventBusError(`Kafka: could not ${where.action}: ${String(error)}`);
  }
  const outer = error as KafkaLikeError;
  const inner = innermost(outer);
  const name = typeof inner.name === 'string' ? inner.name : typeof outer.name === 'string' ? outer.name : 'Error';
  const type = typeof inner.type === 'string' ? inner.type : typeof outer.type === 'string' ? outer.type : undefined;
  const text = typeof outer.message === 'string' ? outer.message : name;
  const message = `Kafka: could not ${where.action} (${where.target}): ${text}`;
  const base: OnexErrorOptions & { transportType: 'kafka'; target: string } = {
    transportType: 'kafka',
    target: where.target,
    cause: error,
    details: { kafka_error: name, ...(type === undefined ? {} : { kafka_error_type: type }) },
  };
  if (type !== undefined && AUTH_TYPES.has(type)) {
    return new InfraAuthenticationError(message, { ...base, hint: 'Check the ACLs and credentials of this client for the topic and the consumer group.' });
  }
  if (CONNECTION.has(name) || CONNECTION.has(String(outer.name))) {
    return new InfraConnectionError(message, { ...base, hint: 'Is the broker running and reachable at bootstrap_servers? The host keeps retrying and recovers when it is back.' });
  }
  if (name === 'KafkaJSRequestTimeoutError' || name.endsWith('TimeoutError') || type === 'REQUEST_TIMED_OUT') {
    return new InfraTimeoutError(message, { ...base, hint: 'The broker did not answer within request_timeout_ms; check its load and the network.' });
  }
  const retriable = outer.retriable === true || inner.retriable === true || outer.name === 'KafkaJSNumberOfRetriesExceeded';
  if (retriable) return new InfraUnavailableError(message, { ...base, hint: 'The cluster cannot serve this request right now (leader election, restart); it is retried.' });
  return new EventBusError(message, { cause: error, retryable: false, details: base.details, hint: 'See the Kafka error type; this failure is not retried.' });
}
