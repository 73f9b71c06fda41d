import { Buffer } from 'node:buffer';
import { EnvelopeValidationError, type ErrorContext, type JsonObject, type JsonValue } from '@onex/core';
import { z } from 'zod';
import { MAX_HTTP_TIMEOUT_MS } from './http-config.js';
import { describeIssues, type FieldIssue } from './http-issues.js';

/** Every operation the http handler accepts, in `{domain}.{action}` form. */
export const HTTP_OPERATIONS = ['http.get', 'http.post', 'http.put', 'http.patch', 'http.delete', 'http.head'] as const;
export type HttpOperation = (typeof HTTP_OPERATIONS)[number];
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export function isHttpOperation(value: string): value is HttpOperation {
  return (HTTP_OPERATIONS as readonly string[]).includes(value);
}

/** `http.get` → `GET`. */
export function httpMethodOf(operation: HttpOperation): HttpMethod {
  return operation.slice('http.'.length).toUpperCase() as HttpMethod;
}

/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Characters that would let a header value smuggle another header or request. */
const UNSAFE_HEADER_VALUE = /[\r\n\0]/;

const headersSchema = z.record(z.string(), z.string({ error: 'must be a string' })).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'is not a valid header name' });
    else if (UNSAFE_HEADER_VALUE.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: 'must not contain CR, LF or NUL' });
  }
});

const queryScalar = z.union([z.string(), z.number(), z.boolean()]);
const queryValue = z.union([queryScalar, z.array(queryScalar)], {
  error: 'must be a string, number, boolean or an array of them',
});

const bodySchema = z.custom<string | JsonObject | JsonValue[]>(
  (value) => typeof value === 'string' || (typeof value === 'object' && value !== null),
  { error: 'must be a JSON object, a JSON array or a string' },
);

/**
 * The wire payload of every http operation (snake_case, unknown fields rejected):
 * `url` (required), `headers`, `query`, `body`, `timeout_ms`.
 */
export const httpPayloadSchema = z.strictObject({
  url: z.string().min(1, { error: 'must not be empty' }),
  headers: headersSchema.optional(),
  query: z.record(z.string(), queryValue).optional(),
  body: bodySchema.optional(),
  timeout_ms: z.int().positive().max(MAX_HTTP_TIMEOUT_MS).optional(),
});

/** The payload as a caller writes it. */
export type HttpRequestPayload = z.input<typeof httpPayloadSchema>;

/** A validated request, ready for the dispatcher. */
export interface HttpRequestSpec {
  readonly method: HttpMethod;
  /** Final URL with `query` applied; userinfo and fragment removed. */
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Per-request override of the configured timeout. */
  readonly timeoutMs: number | undefined;
}

export interface ParseHttpPayloadOptions {
  /** Resolves relative `url`s; without it `url` must be absolute. */
  readonly baseUrl?: string | undefined;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function resolveUrl(raw: string, baseUrl: string | undefined, issues: FieldIssue[]): URL | undefined {
  let url: URL;
  try {
    url = baseUrl === undefined ? new URL(raw) : new URL(raw, baseUrl);
  } catch {
    issues.push({
      path: 'payload.url',
      message: baseUrl === undefined
        ? 'must be an absolute http:// or https:// URL (relative URLs need a configured baseUrl)'
        : 'is not a valid URL or path',
    });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    issues.push({ path: 'payload.url', message: `must use http: or https:, not ${url.protocol}` });
    return undefined;
  }
  return url;
}

/**
 * Validates an envelope payload for `operation` and turns it into a request: resolves
 * the URL, appends `query`, moves `user:pass@` into a Basic `authorization` header
 * (unless one is given) and encodes the body — objects and arrays as JSON
 * (`content-type: application/json`), strings as they are (`text/plain; charset=utf-8`),
 * each only when the caller set no content-type.
 *
 * @throws HandlerExecutionError with code ENVELOPE_VALIDATION_ERROR naming each bad field.
 */
export function parseHttpPayload(
  operation: HttpOperation,
  payload: unknown,
  options: ParseHttpPayloadOptions = {},
  context: ErrorContext = {},
): HttpRequestSpec {
  const method = httpMethodOf(operation);
  const quick = quickPayload(payload);
  if (quick !== undefined && (quick.body === undefined || (method !== 'GET' && method !== 'HEAD'))) {
    // Same steps as below for a payload the schema would accept unchanged.
    const issues: FieldIssue[] = [];
    const url = resolveUrl(quick.url, options.baseUrl, issues);
    if (url !== undefined) return buildSpec(method, url, quick);
  }
  const parsed = httpPayloadSchema.safeParse(payload);
  const issues: FieldIssue[] = parsed.success ? [] : describeIssues(parsed.error, 'payload');
  let spec: HttpRequestSpec | undefined;
  if (parsed.success) {
    const data = parsed.data;
    if (data.body !== undefined && (method === 'GET' || method === 'HEAD')) {
      issues.push({ path: 'payload.body', message: `is not allowed for ${operation}` });
    }
    const url = resolveUrl(data.url, options.baseUrl, issues);
    if (url !== undefined && issues.length === 0) spec = buildSpec(method, url, data);
  }
  if (spec !== undefined) return spec;
  throw new EnvelopeValidationError(`Invalid ${operation} payload: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'http',
    operation,
    correlationId: context.correlationId,
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'Send a payload object with "url" (required) and optionally "headers", "query", "body" (not for get/head) and "timeout_ms".',
  });
}

type HttpPayload = z.output<typeof httpPayloadSchema>;

const PAYLOAD_FIELDS = new Set(['url', 'headers', 'query', 'body', 'timeout_ms']);

/** A plain object as JSON.parse makes it; `__proto__` keys are left to zod. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !Object.hasOwn(value, '__proto__');
}

function isQueryScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function isValidHeaders(headers: unknown): headers is Record<string, string> {
  if (!isPlainRecord(headers)) return false;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' || !HEADER_NAME.test(name) || UNSAFE_HEADER_VALUE.test(value)) return false;
  }
  return true;
}

function isValidQuery(query: unknown): query is Record<string, string | number | boolean | Array<string | number | boolean>> {
  if (!isPlainRecord(query)) return false;
  for (const key in query) {
    const value = query[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i += 1) if (!isQueryScalar(value[i])) return false;
    } else if (!isQueryScalar(value)) return false;
  }
  return true;
}

/**
 * `payload` as parsed data when it is a plain object that `httpPayloadSchema` accepts
 * unchanged; `undefined` when unsure, and zod decides (and words every rejection).
 * zod costs more than everything else the handler does per request, and almost every
 * payload is a well-formed `{ url, headers?, query?, body?, timeout_ms? }`.
 */
function quickPayload(payload: unknown): HttpPayload | undefined {
  if (!isPlainRecord(payload)) return undefined;
  // for…in also sees inherited enumerable keys, which the strict schema rejects too.
  for (const key in payload) if (!PAYLOAD_FIELDS.has(key)) return undefined;
  const { url, headers, query, body, timeout_ms: timeoutMs } = payload;
  if (typeof url !== 'string' || url.length === 0) return undefined;
  if (headers !== undefined && !isValidHeaders(headers)) return undefined;
  if (query !== undefined && !isValidQuery(query)) return undefined;
  if (body !== undefined && typeof body !== 'string' && (typeof body !== 'object' || body === null)) return undefined;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && (timeoutMs as number) > 0 && (timeoutMs as number) <= MAX_HTTP_TIMEOUT_MS)) {
    return undefined;
  }
  return payload as HttpPayload;
}

function buildSpec(method: HttpMethod, url: URL, data: HttpPayload): HttpRequestSpec {
  const headers: Record<string, string> = data.headers === undefined ? {} : { ...data.headers };
  if (data.query !== undefined) {
    for (const [key, value] of Object.entries(data.query)) {
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
  }
  if (url.username !== '' || url.password !== '') {
    if (!hasHeader(headers, 'authorization')) {
      const credentials = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  // The setter re-serializes the URL; skip it when there is no fragment (an empty one still shows as '#').
  if (url.href.includes('#')) url.hash = '';
  let body: string | undefined;
  if (typeof data.body === 'string') {
    body = data.body;
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (data.body !== undefined) {
    body = JSON.stringify(data.body);
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
  }
  return { method, url, headers, body, timeoutMs: data.timeout_ms };
}
