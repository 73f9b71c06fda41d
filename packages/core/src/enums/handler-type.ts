/**
 * Protocol handler types: the vocabulary of names. Which of them have an implementation
 * (and which are dev-only) is not a core fact: the host's handler catalog says so.
 * One handler per type is registered in a runtime.
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

export function isHandlerType(value: unknown): value is HandlerType {
  return typeof value === 'string' && (HANDLER_TYPES as readonly string[]).includes(value);
}
