/**
 * Protocol handler types: one handler per type is registered in a runtime.
 *
 * Kafka is deliberately absent: Kafka is an event bus (transport for envelopes), not a
 * handler that a node calls. See the @onex/spi README for handler vs event bus.
 */
export const HANDLER_TYPES = [
  'local',
  'http',
  'db',
  'vault',
  'consul',
  'llm',
  'grpc',
  'valkey',
  'mcp',
  'filesystem',
  'qdrant',
  'graph',
] as const;
export type HandlerType = (typeof HANDLER_TYPES)[number];

/** Handler types that have an implementation a contract may enable today. */
export const IMPLEMENTED_HANDLER_TYPES = ['local', 'http', 'db', 'vault', 'consul'] as const satisfies readonly HandlerType[];

/** Handler types only allowed in development and tests. */
export const DEV_ONLY_HANDLER_TYPES = ['local'] as const satisfies readonly HandlerType[];

export function isHandlerType(value: unknown): value is HandlerType {
  return typeof value === 'string' && (HANDLER_TYPES as readonly string[]).includes(value);
}
