/**
 * The http protocol handler: outbound HTTP requests (`http.get`, `http.post`, ...) for
 * effect nodes, over one pooled undici Agent per handler, with typed errors for
 * timeouts, connection failures and oversize responses, and an outbound policy
 * (`allowedDomains`; private, loopback and metadata addresses refused) against SSRF.
 */
export { HttpHandler, createHttpHandler, HTTP_HANDLER_VERSION, type HttpHandlerOptions, type HttpHandlerState } from './http-handler.js';
export {
  httpHandlerConfigSchema,
  parseHttpHandlerConfig,
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_RESPONSE_BYTES,
  DEFAULT_HTTP_CONNECTIONS,
  MAX_HTTP_TIMEOUT_MS,
  ORIGIN_HOST_HEADER,
  type HttpHandlerConfig,
  type ResolvedHttpHandlerConfig,
} from './http-config.js';
export {
  HTTP_OPERATIONS,
  httpPayloadSchema,
  parseHttpPayload,
  isHttpOperation,
  httpMethodOf,
  type HttpOperation,
  type HttpMethod,
  type HttpRequestPayload,
  type HttpRequestSpec,
  type ParseHttpPayloadOptions,
} from './http-payload.js';
export type { HttpResponsePayload } from './http-response.js';
