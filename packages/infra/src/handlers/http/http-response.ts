import type { JsonValue } from '@onex/core';
import type { IncomingHttpHeaders } from 'node:http';
import { TextDecoder } from 'node:util';

/**
 * The response payload of every http operation. A non-2xx status is still a successful
 * transport result: the caller decides what a 404 means.
 */
export type HttpResponsePayload = {
  status_code: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: { [name: string]: string };
  /** Parsed JSON for `application/json` and `*+json`, text otherwise, `null` for HEAD, 204, 304 and empty bodies. */
  body: JsonValue;
  /** Present (true) when a JSON content-type carried invalid JSON; `body` is then the raw text. */
  body_parse_error?: true;
};

/** Lower-case names, repeated headers joined with ", ". */
export function flattenHeaders(headers: IncomingHttpHeaders): { [name: string]: string } {
  const out: { [name: string]: string } = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** Decoding is stateless without `stream: true`, so one UTF-8 decoder serves every response. */
const UTF8_DECODER = new TextDecoder('utf-8');

function decoderFor(charset: string | undefined): TextDecoder {
  if (charset === undefined) return UTF8_DECODER;
  const label = charset.toLowerCase();
  if (label === 'utf-8' || label === 'utf8') return UTF8_DECODER;
  try {
    return new TextDecoder(charset);
  } catch {
    return UTF8_DECODER;
  }
}

function parseContentType(value: string | undefined): { mediaType: string; charset: string | undefined } {
  if (value === undefined) return { mediaType: '', charset: undefined };
  if (!value.includes(';')) return { mediaType: value.trim().toLowerCase(), charset: undefined };
  const [type = '', ...params] = value.split(';');
  const charsetParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('charset='));
  const charset = charsetParam?.slice('charset='.length).replace(/^"|"$/g, '').trim();
  return { mediaType: type.trim().toLowerCase(), charset: charset === '' ? undefined : charset };
}

/**
 * The wire payload of a response whose whole body (already within the size limit) is
 * `bytes`: decoded with the content-type's charset, parsed when the media type is JSON.
 * `bytes` is `undefined` when the response cannot carry a body (HEAD, 204, 304).
 */
export function toResponsePayload(statusCode: number, headers: { [name: string]: string }, bytes: Uint8Array | undefined): HttpResponsePayload {
  if (bytes === undefined || bytes.length === 0) return { status_code: statusCode, headers, body: null };
  const { mediaType, charset } = parseContentType(headers['content-type']);
  const text = decoderFor(charset).decode(bytes);
  if (!isJsonMediaType(mediaType)) return { status_code: statusCode, headers, body: text };
  try {
    return { status_code: statusCode, headers, body: JSON.parse(text) as JsonValue };
  } catch {
    return { status_code: statusCode, headers, body: text, body_parse_error: true };
  }
}
