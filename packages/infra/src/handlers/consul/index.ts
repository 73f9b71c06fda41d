/**
 * The `consul` protocol handler: service registration, discovery, health and KV on a
 * Consul agent, confined to the KV and service prefixes its binding lists.
 */
export { ConsulHandler, createConsulHandler, CONSUL_HANDLER_VERSION, type ConsulHandlerOptions, type ConsulHandlerState } from './consul-handler.js';
export {
  parseConsulHandlerConfig,
  DEFAULT_CONSUL_TIMEOUT_MS,
  CONSUL_HEALTH_CHECK_TIMEOUT_MS,
  type ConsulHandlerConfig,
  type ResolvedConsulHandlerConfig,
} from './consul-config.js';
export {
  CONSUL_OPERATIONS,
  type ConsulOperation,
  type ConsulHealthStatus,
  type RegisterServiceResponse,
  type DeregisterServiceResponse,
  type GetServiceResponse,
  type ServiceInstance,
  type ListServicesResponse,
  type HealthCheckServiceResponse,
  type CheckSummary,
  type KvGetResponse,
  type KvPutResponse,
  type KvDeleteResponse,
} from './consul-payload.js';
export { sanitizeConsulKey } from './consul-errors.js';
