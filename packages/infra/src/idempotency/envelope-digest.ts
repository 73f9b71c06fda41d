/**
 * What an idempotency key stands for: the digest of the request an `envelope_id` was first
 * used for, so that the same id reused for a different request is refused instead of being
 * answered with the first request's response.
 */
import { hash } from 'node:crypto';
import { resolveHandlerType, type JsonValue, type OnexEnvelope } from '@onex/core';

/** Bumped when what the digest covers changes, so old and new digests never compare equal by accident. */
const DIGEST_VERSION = 'onex-request-digest/1';

/**
 * JSON text with every object's keys sorted (by UTF-16 code units, like `Array.prototype.sort`),
 * so `{"a":1,"b":2}` and `{"b":2,"a":1}` give the same text. Arrays keep their order; strings
 * and numbers are written by `JSON.stringify` (so `1.0` and `1` agree). Keys whose value is
 * `undefined` are left out, as `JSON.stringify` does.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  // Runs on every idempotent envelope: loops and string concatenation rather than map/join.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) out += `${i > 0 ? ',' : ''}${canonicalJson(value[i] as JsonValue)}`;
    return `${out}]`;
  }
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (const key of keys) {
    const item = (value as Readonly<Record<string, JsonValue | undefined>>)[key];
    if (item === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/**
 * The SHA-256 (hex) of what makes two envelopes the same request: `operation`, `target_node`
 * (absent and `null` alike), `handler_type` as resolved (an omitted one and the operation's
 * prefix written out agree) and `payload` as canonical JSON (key order does not matter).
 *
 * Never `metadata` (trace context, tenant, deadline), `timestamp`, `correlation_id`,
 * `causation_id`, `source_node`, `ttl_seconds` or the envelope version: a resend is the same
 * request even when those differ (a retrying client stamps a new timestamp and trace).
 */
export function envelopeDigest(envelope: OnexEnvelope): string {
  const covered = canonicalJson([DIGEST_VERSION, envelope.operation, envelope.targetNode ?? null, resolveHandlerType(envelope), envelope.payload]);
  // crypto.hash: one call, no Hash object, for a small input (Node >= 20.12).
  return hash('sha256', covered, 'hex');
}
