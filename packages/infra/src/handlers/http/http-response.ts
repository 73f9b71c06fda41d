import type { JsonValue } from '@onex/core';
import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';
import type { Dispatcher } from 'undici';
import { responseTooLargeError, type HttpCallContext } from './http-errors.js';

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

type ResponseData = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>;

function flattenHeaders(headers: ResponseData['headers']): { [name: string]: string } {
  const out: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

function decoderFor(charset: string | undefined): TextDecoder {
  try {
    return new TextDecoder(charset ?? 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

function parseContentType(value: string | undefined): { mediaType: string; charset: string | undefined } {
  const [type = '', ...params] = (value ?? '').split(';');
  const charsetParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('charset='));
  const charset = charsetParam?.slice('charset='.length).replace(/^"|"$/g, '').trim();
  return { mediaType: type.trim().toLowerCase(), charset: charset === '' ? undefined : charset };
}

/**
 * Reads at most `maxResponseBytes` of the body. An announced content-length above the
 * limit fails before reading; otherwise the read stops (and the connection is dropped)
 * as soon as the running total crosses the limit.
 */
async function readLimited(body: ResponseData['body'], contentLength: number | undefined, ctx: HttpCallContext): Promise<Buffer> {
  if (contentLength !== undefined && contentLength > ctx.maxResponseBytes) {
    body.destroy();
    throw responseTooLargeError(ctx, { contentLength });
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > ctx.maxResponseBytes) {
      body.destroy();
      throw responseTooLargeError(ctx, { receivedBytes: received, ...(contentLength === undefined ? {} : { contentLength }) });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/** Turns an undici response into the wire payload, enforcing the size limit. */
export async function readHttpResponse(response: ResponseData, ctx: HttpCallContext): Promise<HttpResponsePayload> {
  const headers = flattenHeaders(response.headers);
  const { statusCode, body } = response;
  if (ctx.method === 'HEAD' || statusCode === 204 || statusCode === 304) {
    await body.dump();
    return { status_code: statusCode, headers, body: null };
  }
  const announced = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const bytes = await readLimited(body, Number.isFinite(announced) ? announced : undefined, ctx);
  if (bytes.length === 0) return { status_code: statusCode, headers, body: null };

  const { mediaType, charset } = parseContentType(headers['content-type']);
  const text = decoderFor(charset).decode(bytes);
  if (!isJsonMediaType(mediaType)) return { status_code: statusCode, headers, body: text };
  try {
    return { status_code: statusCode, headers, body: JSON.parse(text) as JsonValue };
  } catch {
    return { status_code: statusCode, headers, body: text, body_parse_error: true };
  }
}
