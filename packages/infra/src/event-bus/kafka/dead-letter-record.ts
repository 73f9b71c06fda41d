import type { DeadLetterReason } from '@onex/spi';
import type { KafkaRecord, OutboundRecord } from './kafka-client.js';

/**
 * The dead-letter record of a message that could not be processed: everything needed to
 * inspect it and replay it by hand — where it came from, its key, headers and original
 * bytes (UTF-8 text when they are valid UTF-8, else base64), why it failed and how often
 * it was tried, which host gave up, and when.
 */
export interface DeadLetterRecordBody {
  readonly original_topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly raw_value: string | null;
  readonly raw_value_encoding: 'utf8' | 'base64';
  readonly error: { readonly code: string; readonly message: string };
  readonly attempts: number;
  readonly host_id: string;
  readonly dead_lettered_at: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array | null): { value: string | null; encoding: 'utf8' | 'base64' } {
  if (bytes === null) return { value: null, encoding: 'utf8' };
  try {
    return { value: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), encoding: 'base64' };
  }
}

export function deadLetterRecord(record: KafkaRecord, reason: DeadLetterReason, topic: string, hostId: string, at: Date): OutboundRecord {
  const key = text(record.key);
  const value = text(record.value);
  const body: DeadLetterRecordBody = {
    original_topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: key.encoding === 'utf8' ? key.value : null,
    headers: record.headers,
    raw_value: value.value,
    raw_value_encoding: value.encoding,
    error: { code: reason.code, message: reason.message },
    attempts: reason.attempts,
    host_id: hostId,
    dead_lettered_at: at.toISOString(),
  };
  return {
    topic,
    key: body.key,
    value: JSON.stringify(body),
    headers: { ...record.headers, 'content-type': 'application/json', 'onex-dead-letter-code': reason.code },
  };
}
