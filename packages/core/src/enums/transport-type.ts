/** Transport types carried in infra error context (which kind of system failed). */
export const TRANSPORT_TYPES = [
  'http',
  'db',
  'kafka',
  'consul',
  'vault',
  'valkey',
  'grpc',
  'runtime',
  'mcp',
  'filesystem',
  'inmemory',
  'qdrant',
  'graph',
] as const;
export type TransportType = (typeof TRANSPORT_TYPES)[number];
