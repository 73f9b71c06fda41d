import { createHash } from 'node:crypto';
import type { DeadLetterReason } from '@onex/spi';
import type { KafkaRecord, OutboundRecord } from './kafka-client.js';

/**
 * The dead-letter record of a message that could not be processed: everything needed to
 * inspect it and replay it by hand — where it came from, its key, headers and original
 * bytes (UTF-8 text when they are valid UTF-8, else base64), why it failed and how often
 * it was tried, the correlation id of the error answer it got, which host gave up, and when.
 *
 * A dead letter must always fit on the dead-letter topic, or its partition could never
 * commit past the message again. When the whole record would exceed
 * {@link DEAD_LETTER_MAX_RECORD_BYTES}, it is `truncated`: `raw_value` keeps the first
 * {@link DEAD_LETTER_RAW_PREVIEW_BYTES} bytes, and `raw_size` / `raw_sha256` describe the
 * original value so it can still be found and verified at its source position.
 */
export interface DeadLetterRecordBody {
  readonly original_topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The correlation id of the error envelope that answered the message (links the two). */
  readonly correlation_id?: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The original value, or only its first bytes when `truncated`. */
  readonly raw_value: string | null;
  readonly raw_value_encoding: 'utf8' | 'base64';
  /** Present (true) only when the record was cut to fit; `raw_value`, `key` or `headers` are then partial. */
  readonly truncated?: true;
  /** Size in bytes of the original value (truncated records only). */
  readonly raw_size?: number;
  /** Hex SHA-256 of the original value (truncated records only). */
  readonly raw_sha256?: string;
  /** Size and SHA-256 of an original key too large to keep (truncated records only; `key` is then null). */
  readonly key_size?: number;
  readonly key_sha256?: string;
  /** Names of original headers left out because they were too large (truncated records only). */
  readonly dropped_headers?: readonly string[];
  readonly error: { readonly code: string; readonly message: string };
  readonly attempts: number;
  readonly host_id: string;
  readonly dead_lettered_at: string;
}

/**
 * Upper bound, in bytes, of one dead-letter record (value, key and headers). A quarter of
 * Kafka's default `max.message.bytes` (1 MiB, 1048588) — the limit of a dead-letter topic
 * created without overrides, and of a broker's `message.max.bytes` — so the record fits
 * beside the error envelope that goes out with it, whatever the input topic allows.
 */
export const DEAD_LETTER_MAX_RECORD_BYTES = 256 * 1024;
/** How many leading bytes of the original value a truncated dead letter keeps. */
export const DEAD_LETTER_RAW_PREVIEW_BYTES = 16 * 1024;
/** In a truncated dead letter: a longer key is replaced by its size and hash. */
const MAX_KEPT_KEY_BYTES = 1024;
/** In a truncated dead letter: a header (name + value) over this is dropped, and headers stop at the total. */
const MAX_KEPT_HEADER_BYTES = 1024;
const MAX_KEPT_HEADERS_BYTES = 32 * 1024;
/** In a truncated dead letter: the error message is cut here (it may quote its input). */
const MAX_KEPT_MESSAGE_CHARS = 2048;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function text(bytes: Uint8Array | null): { value: string | null; encoding: 'utf8' | 'base64' } {
  if (bytes === null) return { value: null, encoding: 'utf8' };
  try {
    return { value: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { value: asBuffer(bytes).toString('base64'), encoding: 'base64' };
  }
}

/** The first `limit` bytes as text; a UTF-8 character cut in half at the end is left out rather than turning the prefix into base64. */
function prefixText(bytes: Uint8Array, limit: number): { value: string; encoding: 'utf8' | 'base64' } {
  let end = Math.min(limit, bytes.byteLength);
  // The first byte left out is a continuation byte (10xxxxxx): the cut is inside a character.
  for (let back = 0; back < 3 && end > 0 && end < bytes.byteLength && ((bytes[end] as number) & 0xc0) === 0x80; back += 1) end -= 1;
  const decoded = text(bytes.subarray(0, end));
  return { value: decoded.value ?? '', encoding: decoded.encoding };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function headerBytes(headers: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

function outbound(body: DeadLetterRecordBody, topic: string, code: string): OutboundRecord {
  return {
    topic,
    key: body.key,
    value: JSON.stringify(body),
    headers: { ...body.headers, 'content-type': 'application/json', 'onex-dead-letter-code': code },
  };
}

function recordBytes(record: OutboundRecord): number {
  return Buffer.byteLength(record.value) + (record.key === null ? 0 : Buffer.byteLength(record.key)) + headerBytes(record.headers);
}

/**
 * Builds the dead-letter record of `record`: whole when it fits in `maxBytes`, else
 * truncated (see {@link DeadLetterRecordBody}). Never larger than `maxBytes` when that is
 * at least ~64 KiB (the last step's worst case, far below the default); smaller bounds are for tests.
 */
export function deadLetterRecord(
  record: KafkaRecord,
  reason: DeadLetterReason,
  topic: string,
  hostId: string,
  at: Date,
  maxBytes: number = DEAD_LETTER_MAX_RECORD_BYTES,
): OutboundRecord {
  const key = text(record.key);
  const value = text(record.value);
  const head = { original_topic: record.topic, partition: record.partition, offset: record.offset, ...(reason.correlationId === undefined ? {} : { correlation_id: reason.correlationId }) };
  const tail = { attempts: reason.attempts, host_id: hostId, dead_lettered_at: at.toISOString() };
  const whole = outbound(
    { ...head, key: key.encoding === 'utf8' ? key.value : null, headers: record.headers, raw_value: value.value, raw_value_encoding: value.encoding, error: { code: reason.code, message: reason.message }, ...tail },
    topic,
    reason.code,
  );
  if (recordBytes(whole) <= maxBytes) return whole;

  // Too large: keep what locates and identifies the original, and a bounded preview. Each
  // step gives up more, until the record fits (JSON escaping can multiply a text's size).
  const keyTooLarge = record.key !== null && record.key.byteLength > MAX_KEPT_KEY_BYTES;
  const identity = {
    truncated: true as const,
    raw_size: record.value?.byteLength ?? 0,
    raw_sha256: sha256(record.value ?? new Uint8Array(0)),
    ...(keyTooLarge ? { key_size: record.key?.byteLength, key_sha256: sha256(record.key as Uint8Array) } : {}),
  };
  const keptKey = keyTooLarge || key.encoding !== 'utf8' ? null : key.value;
  const message = reason.message.length > MAX_KEPT_MESSAGE_CHARS ? `${reason.message.slice(0, MAX_KEPT_MESSAGE_CHARS)}…` : reason.message;
  let smallest: OutboundRecord | undefined;
  for (const step of [{ previewBytes: Math.min(DEAD_LETTER_RAW_PREVIEW_BYTES, Math.floor(maxBytes / 16)), headers: true }, { previewBytes: 256, headers: false }, { previewBytes: 0, headers: false }]) {
    const { kept, dropped } = step.headers ? keepHeaders(record.headers) : { kept: {}, dropped: Object.keys(record.headers) };
    const preview = record.value === null ? { value: null, encoding: 'utf8' as const } : prefixText(record.value, step.previewBytes);
    smallest = outbound(
      {
        ...head,
        key: keptKey,
        headers: kept,
        raw_value: preview.value,
        raw_value_encoding: preview.encoding,
        ...identity,
        ...(dropped.length > 0 ? { dropped_headers: dropped.slice(0, 32).map((n) => n.slice(0, 128)) } : {}),
        error: { code: reason.code, message: step.previewBytes > 0 ? message : message.slice(0, 256) },
        ...tail,
      },
      topic,
      reason.code,
    );
    if (recordBytes(smallest) <= maxBytes) break;
  }
  return smallest as OutboundRecord;
}

/** The original headers that fit a truncated dead letter, in order; the names of the others. */
function keepHeaders(headers: Readonly<Record<string, string>>): { kept: Record<string, string>; dropped: string[] } {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  let total = 0;
  for (const [name, v] of Object.entries(headers)) {
    const n = Buffer.byteLength(name) + Buffer.byteLength(v);
    if (n > MAX_KEPT_HEADER_BYTES || total + n > MAX_KEPT_HEADERS_BYTES) dropped.push(name);
    else {
      kept[name] = v;
      total += n;
    }
  }
  return { kept, dropped };
}
