/**
 * When an envelope stops being worth executing. Two ways to say it, and the sooner wins:
 * `ttl_seconds` counted from the envelope's `timestamp` (the sender's clock), or an
 * absolute `metadata.deadline` (an ISO-8601 date-time with an offset, e.g. set by a caller
 * that has its own deadline to pass on). Hosts refuse an expired envelope with EXPIRED,
 * and cancel its handler call when the deadline passes mid-call.
 */
import { EnvelopeExpiredError } from '../errors/runtime-errors.js';
import type { OnexEnvelope } from './envelope.js';

/** The metadata key of an absolute deadline. */
export const DEADLINE_METADATA_KEY = 'deadline';

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A `metadata.deadline` value in epoch ms, or undefined when it is not an ISO-8601 date-time with an offset. */
export function parseDeadline(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a metadata object's reserved `deadline`, if any, is well formed. */
export function isValidDeadlineMetadata(metadata: Readonly<Record<string, unknown>>): boolean {
  const value = metadata[DEADLINE_METADATA_KEY];
  return value === undefined || parseDeadline(value) !== undefined;
}

/**
 * The last timestamp parsed and its value. A host asks for an envelope's deadline more than
 * once (before its retry loop, again in the policy stack), and envelopes made within the same
 * millisecond share their timestamp text; `Date.parse` was ≈ 7 % of the CPU of a no-op round
 * trip with `ttl_seconds` (docs/benchmarks.md, "Policy and observability stack").
 */
let lastTimestamp = '';
let lastTimestampMs = Number.NaN;

function timestampMs(timestamp: string): number {
  if (timestamp !== lastTimestamp) {
    lastTimestampMs = Date.parse(timestamp);
    lastTimestamp = timestamp;
  }
  return lastTimestampMs;
}

/** The envelope's deadline in epoch ms, or undefined when it has none. */
export function envelopeDeadlineMs(envelope: Pick<OnexEnvelope, 'timestamp' | 'ttlSeconds' | 'metadata'>): number | undefined {
  const byTtl = envelope.ttlSeconds === undefined ? undefined : timestampMs(envelope.timestamp) + envelope.ttlSeconds * 1000;
  const byMetadata = parseDeadline(envelope.metadata[DEADLINE_METADATA_KEY]);
  if (byTtl === undefined) return byMetadata;
  return byMetadata === undefined ? byTtl : Math.min(byTtl, byMetadata);
}

/**
 * The EXPIRED error of an envelope. `executed: false` when it was refused before any
 * handler call; true when a call in progress was cancelled (it may have had effects).
 */
export function expiredError(envelope: Pick<OnexEnvelope, 'operation' | 'correlationId'>, deadlineMs: number, nowMs: number, executed: boolean): EnvelopeExpiredError {
  const late = Math.max(0, nowMs - deadlineMs);
  const deadline = new Date(deadlineMs).toISOString();
  return new EnvelopeExpiredError(
    executed
      ? `The deadline of this ${envelope.operation} envelope (${deadline}) passed during its handler call; the call was cancelled`
      : `This ${envelope.operation} envelope expired at ${deadline} (${late} ms ago) and was not executed`,
    {
      correlationId: envelope.correlationId,
      operation: envelope.operation,
      details: { deadline, may_have_run: executed },
      hint: executed
        ? 'Check the target system for the effect; send a new envelope with a later deadline if it did not happen.'
        : 'Send a new envelope with a later ttl_seconds or metadata.deadline; check that the sender and host clocks agree.',
    },
  );
}
