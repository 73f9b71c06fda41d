import { describe, it, expect } from 'vitest';
import { OnexError } from '@onex/core';
import { httpMethodOf, isHttpOperation, parseHttpPayload, HTTP_OPERATIONS } from '../../../src/handlers/http/index.js';

function validationError(run: () => unknown): OnexError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OnexError);
    return error as OnexError;
  }
  throw new Error('expected a validation error');
}

describe('http operations', () => {
  it('maps every operation to its method and rejects others', () => {
    expect(HTTP_OPERATIONS.map(httpMethodOf)).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);
    expect(isHttpOperation('http.get')).toBe(true);
    expect(isHttpOperation('http.options')).toBe(false);
    expect(isHttpOperation('HTTP_GET')).toBe(false);
  });
});

describe('parseHttpPayload: url', () => {
  it('accepts an absolute URL and drops the fragment', () => {
    const spec = parseHttpPayload('http.get', { url: 'https://api.example.com/v1/items?x=1#frag' });
    expect(spec.method).toBe('GET');
    expect(spec.url.href).toBe('https://api.example.com/v1/items?x=1');
    expect(spec.headers).toEqual({});
    expect(spec.body).toBeUndefined();
    expect(spec.timeoutMs).toBeUndefined();
  });

  it('drops an empty fragment and keeps a URL without one as it is', () => {
    expect(parseHttpPayload('http.get', { url: 'https://api.example.com/v1#' }).url.href).toBe('https://api.example.com/v1');
    expect(parseHttpPayload('http.get', { url: 'https://api.example.com/v1?a=%23' }).url.href).toBe('https://api.example.com/v1?a=%23');
  });

  it('resolves a relative URL against baseUrl', () => {
    const spec = parseHttpPayload('http.get', { url: 'items/7' }, { baseUrl: 'http://svc.internal:8080/api/' });
    expect(spec.url.href).toBe('http://svc.internal:8080/api/items/7');
  });

  it('rejects a relative URL when no baseUrl is configured', () => {
    const error = validationError(() => parseHttpPayload('http.get', { url: '/items' }));
    expect(error.message).toContain('payload.url');
    expect(error.message).toContain('baseUrl');
  });

  it('rejects non-http schemes without echoing the URL', () => {
    const error = validationError(() => parseHttpPayload('http.get', { url: 'ftp://bob:pw-hidden@files.example.com/x' }));
    expect(error.message).toContain('payload.url must use http: or https:');
    expect(error.message).not.toContain('pw-hidden');
  });

  it('reports a missing or empty url as the field that is wrong', () => {
    expect(validationError(() => parseHttpPayload('http.get', {})).message).toContain('payload.url is required');
    expect(validationError(() => parseHttpPayload('http.get', { url: '' })).message).toContain('payload.url must not be empty');
  });

  it('moves user:pass@ into a Basic authorization header and out of the URL', () => {
    const spec = parseHttpPayload('http.get', { url: 'http://alice:s3cr%40t@example.com/x' });
    expect(spec.url.href).toBe('http://example.com/x');
    expect(spec.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  });

  it('keeps an explicit Authorization header over URL credentials', () => {
    const spec = parseHttpPayload('http.get', { url: 'http://alice:pw@example.com/', headers: { Authorization: 'Bearer t' } });
    expect(spec.headers).toEqual({ Authorization: 'Bearer t' });
    expect(spec.url.username).toBe('');
  });
});

describe('parseHttpPayload: query', () => {
  it('appends scalars and arrays to the existing query string', () => {
    const spec = parseHttpPayload('http.get', {
      url: 'http://example.com/search?q=a',
      query: { page: 2, exact: true, tag: ['x', 'y z'], empty: '' },
    });
    expect(spec.url.search).toBe('?q=a&page=2&exact=true&tag=x&tag=y+z&empty=');
  });

  it('rejects objects and nulls as query values', () => {
    const error = validationError(() => parseHttpPayload('http.get', { url: 'http://e.com', query: { a: { b: 1 }, c: null } }));
    expect(error.message).toContain('payload.query.a must be a string, number, boolean or an array of them');
    expect(error.message).toContain('payload.query.c');
  });
});

describe('parseHttpPayload: headers', () => {
  it('passes string headers through', () => {
    const spec = parseHttpPayload('http.get', { url: 'http://e.com', headers: { Accept: 'application/json', 'X-Trace': 'abc' } });
    expect(spec.headers).toEqual({ Accept: 'application/json', 'X-Trace': 'abc' });
  });

  it('rejects non-string values, bad names and header injection', () => {
    const error = validationError(() =>
      parseHttpPayload('http.get', { url: 'http://e.com', headers: { 'X-Num': 1 as unknown as string } }),
    );
    expect(error.message).toContain('payload.headers.X-Num must be a string');
    expect(validationError(() => parseHttpPayload('http.get', { url: 'http://e.com', headers: { 'Bad Name': 'v' } })).message)
      .toContain('payload.headers.Bad Name is not a valid header name');
    const injection = validationError(() =>
      parseHttpPayload('http.get', { url: 'http://e.com', headers: { 'X-A': 'secret-value\r\nX-Evil: 1' } }),
    );
    expect(injection.message).toContain('payload.headers.X-A must not contain CR, LF or NUL');
    expect(injection.message).not.toContain('secret-value');
  });
});

describe('parseHttpPayload: body', () => {
  it('encodes objects and arrays as JSON with a JSON content-type', () => {
    const object = parseHttpPayload('http.post', { url: 'http://e.com', body: { a: 1, b: [true, null] } });
    expect(object.body).toBe('{"a":1,"b":[true,null]}');
    expect(object.headers['content-type']).toBe('application/json');
    const array = parseHttpPayload('http.put', { url: 'http://e.com', body: [1, 2] });
    expect(array.body).toBe('[1,2]');
  });

  it('keeps a caller-given content-type, whatever its case', () => {
    const spec = parseHttpPayload('http.patch', {
      url: 'http://e.com',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { a: null },
    });
    expect(spec.headers).toEqual({ 'Content-Type': 'application/merge-patch+json' });
  });

  it('sends strings as they are, defaulting to text/plain', () => {
    const spec = parseHttpPayload('http.post', { url: 'http://e.com', body: 'a=1&b=2' });
    expect(spec.body).toBe('a=1&b=2');
    expect(spec.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('allows a body on delete but not on get or head', () => {
    expect(parseHttpPayload('http.delete', { url: 'http://e.com', body: { id: 1 } }).method).toBe('DELETE');
    expect(validationError(() => parseHttpPayload('http.get', { url: 'http://e.com', body: {} })).message)
      .toContain('payload.body is not allowed for http.get');
    expect(validationError(() => parseHttpPayload('http.head', { url: 'http://e.com', body: 'x' })).message)
      .toContain('payload.body is not allowed for http.head');
  });

  it('rejects scalar bodies', () => {
    for (const body of [42, true, null]) {
      expect(validationError(() => parseHttpPayload('http.post', { url: 'http://e.com', body })).message)
        .toContain('payload.body must be a JSON object, a JSON array or a string');
    }
  });
});

describe('parseHttpPayload: timeout_ms and shape', () => {
  it('takes a positive integer timeout_ms', () => {
    expect(parseHttpPayload('http.get', { url: 'http://e.com', timeout_ms: 250 }).timeoutMs).toBe(250);
    for (const timeout_ms of [0, -5, 1.5, 2 ** 31, '100']) {
      expect(validationError(() => parseHttpPayload('http.get', { url: 'http://e.com', timeout_ms })).message).toContain('payload.timeout_ms');
    }
  });

  it('rejects unknown fields and non-object payloads', () => {
    expect(validationError(() => parseHttpPayload('http.post', { url: 'http://e.com', bdy: {} })).message)
      .toContain('payload has unknown field(s) "bdy"');
    expect(validationError(() => parseHttpPayload('http.get', ['http://e.com'])).message).toContain('Invalid http.get payload');
    expect(validationError(() => parseHttpPayload('http.get', 'http://e.com')).message).toContain('Invalid http.get payload');
  });

  it('throws a typed, non-retryable ENVELOPE_VALIDATION_ERROR listing every issue', () => {
    const error = validationError(() =>
      parseHttpPayload('http.post', { headers: { 'X-A': 1 }, timeout_ms: 0 }, {}, { correlationId: 'c-1' }),
    );
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.retryable).toBe(false);
    expect(error.handlerType).toBe('http');
    expect(error.operation).toBe('http.post');
    expect(error.correlationId).toBe('c-1');
    const paths = (error.details.issues as Array<{ path: string }>).map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['payload.url', 'payload.headers.X-A', 'payload.timeout_ms']));
    expect(error.hint).toContain('url');
  });
});
