/**
 * Dead-letter records always fit the dead-letter topic: whole when small, and for a value
 * too large, its position, size, SHA-256 and first bytes, marked `truncated`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_MAX_RECORD_BYTES, DEAD_LETTER_RAW_PREVIEW_BYTES, deadLetterRecord, type DeadLetterRecordBody } from '../../src/event-bus/kafka/dead-letter-record.js';
import type { KafkaRecord, OutboundRecord } from '../../src/event-bus/kafka/kafka-client.js';

const CORRELATION = '00000000-0000-4000-8000-0000000000c7';
const REASON = { code: 'ENVELOPE_VALIDATION_ERROR', message: 'Envelope is not valid JSON', attempts: 1, correlationId: CORRELATION };
const AT = new Date('2026-11-26T06:00:00.000Z');

function record(value: Uint8Array | string | null, fields: Partial<KafkaRecord> = {}): KafkaRecord {
  return {
    topic: 'onex.test.orders.cmd.v1',
    partition: 2,
    offset: '41',
    key: Buffer.from('order-7'),
    headers: { correlation_id: CORRELATION, source: 'test' },
    ...fields,
    value: typeof value === 'string' ? Buffer.from(value) : value,
  };
}

const body = (r: OutboundRecord): DeadLetterRecordBody => JSON.parse(r.value) as DeadLetterRecordBody;
const size = (r: OutboundRecord): number =>
  Buffer.byteLength(r.value) + Buffer.byteLength(r.key ?? '') + Object.entries(r.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('deadLetterRecord', () => {
  it('keeps a small record whole, with the correlation id of its answer and no truncation marks', () => {
    const out = deadLetterRecord(record('{"operation": "http.'), REASON, 'onex.test.orders.error.v1', 'host-7', AT);
    expect(out).toMatchObject({ topic: 'onex.test.orders.error.v1', key: 'order-7', headers: { correlation_id: CORRELATION, source: 'test', 'content-type': 'application/json', 'onex-dead-letter-code': 'ENVELOPE_VALIDATION_ERROR' } });
    expect(body(out)).toEqual({
      original_topic: 'onex.test.orders.cmd.v1',
      partition: 2,
      offset: '41',
      correlation_id: CORRELATION,
      key: 'order-7',
      headers: { correlation_id: CORRELATION, source: 'test' },
      raw_value: '{"operation": "http.',
      raw_value_encoding: 'utf8',
      error: { code: 'ENVELOPE_VALIDATION_ERROR', message: 'Envelope is not valid JSON' },
      attempts: 1,
      host_id: 'host-7',
      dead_lettered_at: '2026-11-26T06:00:00.000Z',
    });
  });

  it('truncates a 2 MB value: position, size, sha256 and the first bytes, within the bound', () => {
    const raw = Buffer.from(`{"operation": "http.fake", "payload": "${'x'.repeat(2 * 1024 * 1024)}`);
    const out = deadLetterRecord(record(raw), REASON, 'dlq', 'host-7', AT);
    expect(size(out)).toBeLessThanOrEqual(DEAD_LETTER_MAX_RECORD_BYTES);
    const b = body(out);
    expect(b).toMatchObject({
      original_topic: 'onex.test.orders.cmd.v1',
      partition: 2,
      offset: '41',
      correlation_id: CORRELATION,
      key: 'order-7',
      headers: { correlation_id: CORRELATION, source: 'test' },
      truncated: true,
      raw_size: raw.byteLength,
      raw_sha256: sha256(raw),
      raw_value_encoding: 'utf8',
      error: { code: 'ENVELOPE_VALIDATION_ERROR', message: REASON.message },
    });
    expect(b.raw_value).toBe(raw.subarray(0, DEAD_LETTER_RAW_PREVIEW_BYTES).toString('utf8'));
    expect(out.headers).toMatchObject({ 'onex-dead-letter-code': 'ENVELOPE_VALIDATION_ERROR' });
  });

  it('never cuts a UTF-8 character in half, and falls back to base64 for bytes that are not UTF-8', () => {
    // 'é' is two bytes: an odd prefix length would split one.
    const text = Buffer.from(`a${'é'.repeat(20)}`);
    const cut = body(deadLetterRecord(record(text), REASON, 'dlq', 'h', AT, 32));
    expect(cut).toMatchObject({ truncated: true, raw_value_encoding: 'utf8', raw_size: text.byteLength });
    expect(text.toString('utf8').startsWith(cut.raw_value as string)).toBe(true);

    const binary = new Uint8Array(4096).fill(0xff);
    const b = body(deadLetterRecord(record(binary), REASON, 'dlq', 'h', AT, 1024));
    expect(b).toMatchObject({ truncated: true, raw_value_encoding: 'base64', raw_size: 4096, raw_sha256: sha256(binary) });
    expect(Buffer.from(b.raw_value as string, 'base64').every((byte) => byte === 0xff)).toBe(true);
  });

  it('replaces an oversized key by its size and hash, and drops oversized headers by name, still within the bound', () => {
    const key = Buffer.from('k'.repeat(300_000));
    const out = deadLetterRecord(record('{}', { key, headers: { huge: 'h'.repeat(400_000), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }), REASON, 'dlq', 'h', AT);
    expect(size(out)).toBeLessThanOrEqual(DEAD_LETTER_MAX_RECORD_BYTES);
    expect(out.key).toBeNull();
    expect(out.headers).not.toHaveProperty('huge');
    expect(body(out)).toMatchObject({ truncated: true, key: null, key_size: 300_000, key_sha256: sha256(key), dropped_headers: ['huge'], headers: { traceparent: expect.any(String) as string }, raw_value: '{}' });
  });

  it('fits even when the preview would grow past the bound once JSON-escaped', () => {
    // Control characters escape to six bytes each.
    const raw = new Uint8Array(3 * 1024 * 1024).fill(0x01);
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`h${n}`, '\u0001'.repeat(700)]));
    const out = deadLetterRecord(record(raw, { headers }), REASON, 'dlq', 'h', AT);
    expect(size(out)).toBeLessThanOrEqual(DEAD_LETTER_MAX_RECORD_BYTES);
    expect(body(out)).toMatchObject({ truncated: true, raw_size: raw.byteLength, raw_sha256: sha256(raw) });
  });
});
