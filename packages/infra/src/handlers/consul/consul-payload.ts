/**
 * Request payloads of the consul operations (snake_case wire fields), validated with zod,
 * and the response payload types. A bad payload is the caller's mistake: an
 * ENVELOPE_VALIDATION_ERROR that names every bad field (never a value).
 */
import { EnvelopeValidationError, type ErrorContext, type JsonValue } from '@onex/core';
import { z } from 'zod';
import { describeIssues } from '../http/http-issues.js';
import { hasControlCharacter } from '../../text/control-characters.js';

/** Every operation ConsulHandler accepts. */
export const CONSUL_OPERATIONS = [
  'consul.register_service',
  'consul.deregister_service',
  'consul.get_service',
  'consul.list_services',
  'consul.health_check_service',
  'consul.kv_get',
  'consul.kv_put',
  'consul.kv_delete',
] as const;
export type ConsulOperation = (typeof CONSUL_OPERATIONS)[number];

/** Operations that change the agent or the KV store: they need `read_write` access. */
export const CONSUL_WRITE_OPERATIONS: ReadonlySet<string> = new Set(['consul.register_service', 'consul.deregister_service', 'consul.kv_put', 'consul.kv_delete']);

/** A Go duration as Consul reads it: `10s`, `1m30s`, `500ms`. */
const durationSchema = z.string().regex(/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/, 'must be a duration like "10s", "1m" or "500ms"');
const serviceNameSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, "_", "." or "-", starting with a letter or digit');
const serviceIdSchema = z.string().min(1).max(256).regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, "_", ".", ":" or "-", starting with a letter or digit');

/** An HTTP check: the agent GETs `http` every `interval`. */
const httpCheckSchema = z.strictObject({
  http: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).describe('URL the agent polls; 2xx is passing, 429 warning, anything else critical.'),
  interval: durationSchema,
  timeout: durationSchema.optional(),
  deregister_critical_service_after: durationSchema.optional().describe('Consul removes the service after it has been critical this long (its reaper runs about once a minute).'),
});

/** A TTL check: the service must be marked passing within `ttl`, or it goes critical. */
const ttlCheckSchema = z.strictObject({
  ttl: durationSchema,
  deregister_critical_service_after: durationSchema.optional(),
});

/** Payload of `consul.register_service`. */
export const registerServicePayloadSchema = z.strictObject({
  name: serviceNameSchema,
  id: serviceIdSchema.optional().describe('Defaults to the name.'),
  tags: z.array(z.string().min(1).max(256)).max(64).optional(),
  address: z.string().min(1).max(255).optional().describe("Advertised address. Defaults to the agent node's address."),
  port: z.int().min(1).max(65_535).optional(),
  meta: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'meta keys are letters, digits, "_" or "-"'), z.string().max(512)).optional(),
  check: z.union([httpCheckSchema, ttlCheckSchema]).optional(),
});
export const deregisterServicePayloadSchema = z.strictObject({ service_id: serviceIdSchema });
export const getServicePayloadSchema = z.strictObject({
  name: serviceNameSchema,
  tag: z.string().min(1).optional(),
  passing_only: z.boolean().optional().describe('Only instances whose checks all pass. Default false.'),
});
export const listServicesPayloadSchema = z.strictObject({});
export const healthCheckServicePayloadSchema = z.strictObject({ name: serviceNameSchema });

/** A KV key: relative (no leading "/"), no empty, "." or ".." segments. */
const kvKeySchema = z
  .string()
  .min(1)
  .max(512)
  .refine((k) => !k.startsWith('/'), 'must not start with "/"')
  .refine((k) => k.split('/').every((s, i, all) => (s !== '' || i === all.length - 1) && s !== '.' && s !== '..'), 'must not contain empty, "." or ".." segments')
  .refine((k) => !hasControlCharacter(k), 'must not contain control characters');
export const kvGetPayloadSchema = z.strictObject({ key: kvKeySchema });
export const kvPutPayloadSchema = z.strictObject({
  key: kvKeySchema,
  value: z.string().max(512 * 1024, 'must be at most 512 KiB (Consul refuses larger values)'),
  cas: z.int().min(0).optional().describe('Write only if the key\'s modify_index is this (0: only if the key does not exist). A mismatch answers written: false.'),
});
export const kvDeletePayloadSchema = z.strictObject({ key: kvKeySchema, recurse: z.boolean().optional().describe('Delete every key that starts with key. Default false.') });

export type RegisterServicePayload = z.output<typeof registerServicePayloadSchema>;
export type ServiceCheck = NonNullable<RegisterServicePayload['check']>;

/** Check status as Consul reports it, plus `unknown` for a service without instances. */
export type ConsulHealthStatus = 'passing' | 'warning' | 'critical' | 'unknown';

/** Response of `consul.register_service`. */
export type RegisterServiceResponse = { service_id: string };
/** Response of `consul.deregister_service`. */
export type DeregisterServiceResponse = { service_id: string; deregistered: true };
/** One instance in `consul.get_service`. */
export type ServiceInstance = { id: string; node: string; address: string; port: number; tags: string[]; meta: Record<string, string>; status: ConsulHealthStatus };
/** Response of `consul.get_service`. */
export type GetServiceResponse = { found: boolean; instances: ServiceInstance[] };
/** Response of `consul.list_services`. */
export type ListServicesResponse = { services: Record<string, string[]> };
/** One check in `consul.health_check_service`. */
export type CheckSummary = { check_id: string; name: string; node: string; service_id: string; status: ConsulHealthStatus; output: string };
/** Response of `consul.health_check_service`. */
export type HealthCheckServiceResponse = { status: ConsulHealthStatus; checks: CheckSummary[] };
/** Response of `consul.kv_get`. */
export type KvGetResponse = { found: boolean; value: string | null; modify_index: number | null };
/** Response of `consul.kv_put`. */
export type KvPutResponse = { written: boolean };
/** Response of `consul.kv_delete`. */
export type KvDeleteResponse = { deleted: boolean };

/**
 * Parses `payload` with `schema`.
 * @throws EnvelopeValidationError listing each bad field.
 */
export function parseConsulPayload<S extends z.ZodType>(schema: S, payload: JsonValue, context: ErrorContext): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, 'payload');
  throw new EnvelopeValidationError(`Invalid ${context.operation ?? 'consul'} payload: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    ...context,
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'See `onex-runtime-host describe` for the payload of each consul operation.',
  });
}
