import { isValidDeadlineMetadata } from './envelope-deadline.js';
import { z } from 'zod';
import { isJsonValue, MAX_JSON_DEPTH, type JsonObject, type JsonValue } from '../json.js';
import { HANDLER_TYPE_RE, SEMVER_RE } from './envelope-patterns.js';

/** 8-4-4-4-12 hex. Deliberately not RFC-variant strict: deterministic test ids are valid too. */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const uuidSchema = z
  .string()
  .regex(UUID_RE, 'must be a UUID (8-4-4-4-12 hex digits)')
  .transform((s) => s.toLowerCase());

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

export const jsonValueSchema: z.ZodType<JsonValue> = z.custom<JsonValue>((value) => isJsonValue(value), {
  message: `must be JSON (null, boolean, finite number, string, array or object, nested at most ${MAX_JSON_DEPTH} deep)`,
});
export const jsonObjectSchema: z.ZodType<JsonObject> = z.custom<JsonObject>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && isJsonValue(value),
  { message: 'must be a JSON object' },
);

/** Envelope versions this code reads. A new major means a wire change we do not understand. */
export const SUPPORTED_ENVELOPE_MAJOR = 1;
export const CURRENT_ENVELOPE_VERSION = '1.0.0';

const semverString = z.string().regex(SEMVER_RE, 'must be "MAJOR.MINOR.PATCH", e.g. "1.0.0"');
const semverObject = z.strictObject({
  major: z.number().int().nonnegative(),
  minor: z.number().int().nonnegative(),
  patch: z.number().int().nonnegative(),
});
export const envelopeVersionSchema = z
  .union([semverString, semverObject.transform((v) => `${v.major}.${v.minor}.${v.patch}`)])
  .refine((v) => Number(v.split('.')[0]) === SUPPORTED_ENVELOPE_MAJOR, {
    message: `unsupported envelope major version; this runtime reads ${SUPPORTED_ENVELOPE_MAJOR}.x.x`,
  });

/** Operations are dotted lower-case paths (`http.get`, `db.query`, `graph.get_neighbors`). */
export const OPERATION_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const operationSchema = z
  .string()
  .min(1, 'is required')
  .regex(OPERATION_RE, 'must be lower-case dotted words like "db.query" (letters, digits, "_", ".")');

const slugSchema = z.string().min(1).max(200);

const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Timestamps arrive in bursts with the same value; the last canonical one skips re-parsing. */
let lastCanonicalTimestamp = '';

const timestampSchema = z.string().transform((text, ctx) => {
  if (text === lastCanonicalTimestamp) return text;
  // A date-time without an offset is UTC (the earlier system wrote naive UTC); never the host's local zone.
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(/(?:z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time, e.g. "2024-01-01T00:00:00.000Z"' });
    return z.NEVER;
  }
  const iso = new Date(ms).toISOString();
  if (CANONICAL_TIMESTAMP.test(text)) {
    if (iso !== text) {
      // Date.parse rolls 2024-02-30 over to March; a date that does not exist is an error.
      ctx.addIssue({ code: 'custom', message: `is not a real date-time (it would roll over to ${iso})` });
      return z.NEVER;
    }
    lastCanonicalTimestamp = text;
  }
  return iso;
});

export const envelopeErrorSchema = z.looseObject({
  code: z.string().min(1),
  message: z.string(),
  handler_type: z.string().optional(),
  operation: z.string().optional(),
});

/** `metadata.tenant_id` is reserved for multi-tenancy: when present it must be a non-empty string. */
const metadataSchema = jsonObjectSchema
  .refine((m) => m.tenant_id === undefined || (typeof m.tenant_id === 'string' && m.tenant_id.length > 0), {
    message: 'metadata.tenant_id is reserved and must be a non-empty string when given',
    path: ['tenant_id'],
  })
  .refine(isValidDeadlineMetadata, {
    message: 'metadata.deadline is reserved and must be an ISO-8601 date-time with an offset, e.g. "2026-01-15T09:30:00Z"',
    path: ['deadline'],
  });

/**
 * The wire schema of an envelope. Fields the earlier system's plain request objects do
 * not carry (`envelope_id`, `timestamp`, ...) are optional here and filled by
 * `parseEnvelope` from the providers.
 */
export const wireEnvelopeSchema = z.strictObject({
  envelope_id: uuidSchema.optional(),
  envelope_version: envelopeVersionSchema.optional(),
  correlation_id: uuidSchema.nullish(),
  causation_id: uuidSchema.nullish(),
  source_node: slugSchema.nullish(),
  target_node: slugSchema.nullish(),
  handler_type: z.string().regex(HANDLER_TYPE_RE, 'must be a lower-case handler type such as "http" or "db"').nullish(),
  operation: operationSchema,
  payload: jsonValueSchema.optional(),
  metadata: metadataSchema.nullish(),
  timestamp: timestampSchema.optional(),
  is_response: z.boolean().optional(),
  success: z.boolean().nullish(),
  error: envelopeErrorSchema.nullish(),
  ttl_seconds: z.number().int().positive().nullish(),
});

export type WireEnvelopeInput = z.input<typeof wireEnvelopeSchema>;
