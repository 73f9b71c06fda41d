import { describe, expect, it } from 'vitest';
import {
  CURRENT_ENVELOPE_VERSION,
  envelopeDeadlineMs,
  MAX_JSON_DEPTH,
  EnvelopeValidationError,
  createErrorResponse,
  createRequestEnvelope,
  createSuccessResponse,
  HandlerNotFoundError,
  parseEnvelope,
  resolveHandlerType,
  salvageIdentity,
  serializeEnvelope,
  toWireEnvelope,
  type OnexEnvelope,
} from '@onex/core';
import { CORRELATION_ID, ID_1, ID_2, T0, catchOnexError, providers } from './helpers.js';

const ENVELOPE_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function fullWire(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    envelope_id: ENVELOPE_ID,
    envelope_version: '1.0.0',
    correlation_id: CORRELATION_ID,
    causation_id: '99999999-8888-4777-8666-555555555555',
    source_node: 'gateway',
    target_node: 'user_service',
    handler_type: 'db',
    operation: 'db.query',
    payload: { sql: 'SELECT 1', params: [1, 'two', null, true], nested: { deep: [{ x: 1.5 }] } },
    metadata: { tenant_id: 'acme', trace: 'abc' },
    timestamp: '2024-05-06T07:08:09.123Z',
    is_response: false,
    ttl_seconds: 30,
    ...overrides,
  };
}

/** The issues listed by an EnvelopeValidationError thrown while parsing `input`. */
function issuesFor(input: unknown): Array<{ path: string; message: string }> {
  const error = catchOnexError(() => parseEnvelope(input, providers()));
  expect(error).toBeInstanceOf(EnvelopeValidationError);
  expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
  return error.details.issues as Array<{ path: string; message: string }>;
}

describe('serializeEnvelope / parseEnvelope round trip', () => {
  it('parse(serialize(e)) deep-equals e for a request envelope', () => {
    const e = parseEnvelope(fullWire(), providers());
    const again = parseEnvelope(serializeEnvelope(e), providers());
    expect(again).toEqual(e);
  });

  it('parse(serialize(e)) deep-equals e for a minimal created request', () => {
    const e = createRequestEnvelope({ operation: 'local.echo', payload: 'hello' }, providers());
    expect(parseEnvelope(serializeEnvelope(e), providers())).toEqual(e);
  });

  it('parse(serialize(e)) deep-equals e for success and error responses', () => {
    const p = providers();
    const req = parseEnvelope(fullWire(), p);
    const ok = createSuccessResponse(req, { rows: [{ id: 1 }], count: 1 }, p);
    const failed = createErrorResponse(
      req,
      new HandlerNotFoundError("No handler registered for type 'vault'", {
        handlerType: 'vault',
        details: { available_handlers: ['db', 'http'] },
      }),
      p,
    );
    expect(parseEnvelope(serializeEnvelope(ok), providers())).toEqual(ok);
    expect(parseEnvelope(serializeEnvelope(failed), providers())).toEqual(failed);
  });

  it('serializes with the spec snake_case field names and omits absent optional fields', () => {
    const e = createRequestEnvelope({ operation: 'http.get', payload: { url: 'https://example.com' } }, providers());
    expect(JSON.parse(serializeEnvelope(e))).toEqual({
      envelope_id: ID_1,
      envelope_version: '1.0.0',
      operation: 'http.get',
      payload: { url: 'https://example.com' },
      metadata: {},
      timestamp: T0,
      is_response: false,
    });
  });

  it('toWireEnvelope maps every camelCase field to its wire name', () => {
    const e = parseEnvelope(fullWire(), providers());
    expect(toWireEnvelope(e)).toEqual(fullWire());
  });
});

describe('parseEnvelope normalisation', () => {
  it('lower-cases UUIDs', () => {
    const e = parseEnvelope(
      fullWire({
        envelope_id: ENVELOPE_ID.toUpperCase(),
        correlation_id: CORRELATION_ID.toUpperCase(),
        causation_id: '99999999-8888-4777-8666-55555555555A',
      }),
      providers(),
    );
    expect(e.envelopeId).toBe(ENVELOPE_ID);
    expect(e.correlationId).toBe(CORRELATION_ID);
    expect(e.causationId).toBe('99999999-8888-4777-8666-55555555555a');
  });

  it('normalises a timestamp with an offset to ISO-8601 UTC', () => {
    expect(parseEnvelope(fullWire({ timestamp: '2024-01-01T02:00:00+02:00' }), providers()).timestamp).toBe('2024-01-01T00:00:00.000Z');
    expect(parseEnvelope(fullWire({ timestamp: '2024-06-30T19:30:00-04:30' }), providers()).timestamp).toBe('2024-07-01T00:00:00.000Z');
  });

  it('normalises a UTC timestamp without milliseconds, and truncates microseconds', () => {
    expect(parseEnvelope(fullWire({ timestamp: '2024-01-01T00:00:00Z' }), providers()).timestamp).toBe(T0);
    expect(parseEnvelope(fullWire({ timestamp: '2024-01-01T00:00:00.123456Z' }), providers()).timestamp).toBe('2024-01-01T00:00:00.123Z');
  });

  it('reads a timestamp without an offset as UTC, whatever the time zone of the process', () => {
    // The earlier system wrote naive UTC timestamps (`datetime.utcnow().isoformat()`); a
    // pure parser must not read them in the host's local zone.
    /* eslint-disable no-restricted-properties -- the test needs a non-UTC zone to prove the parse ignores it */
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      expect(parseEnvelope(fullWire({ timestamp: '2024-01-01T00:00:00' }), providers()).timestamp).toBe(T0);
      expect(parseEnvelope(fullWire({ timestamp: '2024-01-01T00:00:00.250' }), providers()).timestamp).toBe('2024-01-01T00:00:00.250Z');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    /* eslint-enable no-restricted-properties */
  });

  it('rejects a timestamp that is not an ISO-8601 date-time', () => {
    expect(issuesFor(fullWire({ timestamp: 'yesterday' }))).toContainEqual(expect.objectContaining({ path: 'timestamp' }));
    expect(issuesFor(fullWire({ timestamp: '2024-01-01' }))).toContainEqual(expect.objectContaining({ path: 'timestamp' }));
  });

  it('accepts envelope_version as "1.0.0"', () => {
    expect(parseEnvelope(fullWire({ envelope_version: '1.0.0' }), providers()).envelopeVersion).toBe('1.0.0');
    expect(parseEnvelope(fullWire({ envelope_version: '1.4.2' }), providers()).envelopeVersion).toBe('1.4.2');
  });

  it('accepts envelope_version as {major, minor, patch} and normalises it to "1.0.0"', () => {
    const e = parseEnvelope(fullWire({ envelope_version: { major: 1, minor: 0, patch: 0 } }), providers());
    expect(e.envelopeVersion).toBe('1.0.0');
    expect(JSON.parse(serializeEnvelope(e)).envelope_version).toBe('1.0.0');
  });

  it('defaults a missing envelope_version to the current one', () => {
    const wire = fullWire();
    delete wire.envelope_version;
    expect(parseEnvelope(wire, providers()).envelopeVersion).toBe(CURRENT_ENVELOPE_VERSION);
    expect(CURRENT_ENVELOPE_VERSION).toBe('1.0.0');
  });

  it('rejects an unsupported major version, in both forms', () => {
    expect(issuesFor(fullWire({ envelope_version: '2.0.0' }))).toContainEqual(expect.objectContaining({ path: 'envelope_version' }));
    expect(issuesFor(fullWire({ envelope_version: { major: 2, minor: 0, patch: 0 } }))).toContainEqual(
      expect.objectContaining({ path: 'envelope_version' }),
    );
    expect(issuesFor(fullWire({ envelope_version: '0.9.0' }))).toContainEqual(expect.objectContaining({ path: 'envelope_version' }));
  });

  it('rejects a malformed envelope_version', () => {
    expect(issuesFor(fullWire({ envelope_version: 'one' }))).toContainEqual(expect.objectContaining({ path: 'envelope_version' }));
    expect(issuesFor(fullWire({ envelope_version: { major: 1, minor: 0 } }))).toContainEqual(
      expect.objectContaining({ path: expect.stringMatching(/^envelope_version/) }),
    );
  });

  it('reads JSON text and an already-decoded object the same way', () => {
    const p1 = providers();
    const p2 = providers();
    expect(parseEnvelope(JSON.stringify(fullWire()), p1)).toEqual(parseEnvelope(fullWire(), p2));
  });

  it('treats null optional fields as absent', () => {
    const e = parseEnvelope(
      { operation: 'echo', correlation_id: null, causation_id: null, target_node: null, handler_type: null, metadata: null, success: null, error: null, ttl_seconds: null },
      providers(),
    );
    expect(e.correlationId).toBeUndefined();
    expect(e.causationId).toBeUndefined();
    expect(e.targetNode).toBeUndefined();
    expect(e.handlerType).toBeUndefined();
    expect(e.metadata).toEqual({});
    expect(e.success).toBeUndefined();
    expect(e.error).toBeUndefined();
    expect(e.ttlSeconds).toBeUndefined();
  });
});

describe('parseEnvelope: the earlier system\'s plain request objects', () => {
  it('accepts {operation, payload} and fills envelope_id and timestamp from the providers', () => {
    const p = providers();
    p.clock.advance(60);
    const e = parseEnvelope({ operation: 'echo', payload: { message: 'hi' } }, p);
    expect(e).toEqual({
      envelopeId: ID_1,
      envelopeVersion: '1.0.0',
      correlationId: undefined,
      causationId: undefined,
      sourceNode: undefined,
      targetNode: undefined,
      handlerType: undefined,
      operation: 'echo',
      payload: { message: 'hi' },
      metadata: {},
      timestamp: '2024-01-01T00:01:00.000Z',
      isResponse: false,
      success: undefined,
      error: undefined,
      ttlSeconds: undefined,
    });
  });

  it('leaves correlation_id undefined when it is absent (only the host may assign one)', () => {
    const e = parseEnvelope(JSON.stringify({ operation: 'echo', payload: {} }), providers());
    expect(e.correlationId).toBeUndefined();
    expect('correlation_id' in JSON.parse(serializeEnvelope(e))).toBe(false);
  });

  it('accepts correlation_id, handler_type and envelope_id and keeps them', () => {
    const p = providers();
    const e = parseEnvelope({ operation: 'query', payload: { sql: 'SELECT 1' }, correlation_id: CORRELATION_ID, handler_type: 'db', envelope_id: ENVELOPE_ID }, p);
    expect(e.correlationId).toBe(CORRELATION_ID);
    expect(e.handlerType).toBe('db');
    expect(e.envelopeId).toBe(ENVELOPE_ID);
    expect(e.timestamp).toBe(T0);
    // The provided envelope_id was used, so the id generator was not consumed.
    expect(p.ids.nextId()).toBe(ID_1);
  });

  it('uses the next provider id for each plain request', () => {
    const p = providers();
    expect(parseEnvelope({ operation: 'echo' }, p).envelopeId).toBe(ID_1);
    expect(parseEnvelope({ operation: 'echo' }, p).envelopeId).toBe(ID_2);
  });

  it('defaults a missing payload to {}', () => {
    expect(parseEnvelope({ operation: 'echo' }, providers()).payload).toEqual({});
  });

  it('keeps a null payload as null', () => {
    expect(parseEnvelope({ operation: 'echo', payload: null }, providers()).payload).toBeNull();
  });
});

describe('parseEnvelope rejections', () => {
  it('malformed JSON → ENVELOPE_VALIDATION_ERROR at <root>', () => {
    expect(issuesFor('{"operation": "echo",')).toEqual([{ path: '<root>', message: 'malformed JSON' }]);
  });

  it.each([
    ['an array', [1, 2]],
    ['a number', 42],
    ['a string of JSON', '"just a string"'],
    ['null', null],
    ['JSON null', 'null'],
    ['a boolean', true],
  ])('a non-object (%s) → ENVELOPE_VALIDATION_ERROR at <root>', (_label, input) => {
    const issues = issuesFor(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('<root>');
  });

  it('an unknown field → ENVELOPE_VALIDATION_ERROR naming the field', () => {
    const issues = issuesFor({ operation: 'echo', payload: {}, colour: 'blue' });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toContain('"colour"');
  });

  it('a missing operation → ENVELOPE_VALIDATION_ERROR at "operation"', () => {
    expect(issuesFor({ payload: { x: 1 } })).toEqual([{ path: 'operation', message: 'is required' }]);
  });

  it('an empty operation → ENVELOPE_VALIDATION_ERROR at "operation"', () => {
    expect(issuesFor({ operation: '' })).toContainEqual(expect.objectContaining({ path: 'operation' }));
  });

  it.each(['correlation_id', 'envelope_id', 'causation_id'])('a bad uuid in %s → ENVELOPE_VALIDATION_ERROR naming it', (field) => {
    const issues = issuesFor({ operation: 'echo', [field]: 'not-a-uuid' });
    expect(issues).toEqual([{ path: field, message: expect.stringContaining('UUID') }]);
  });

  it.each(['DB.Query', 'db..query', '.query', 'db.query.', 'db query', '1db.query', 'db-query'])(
    'a bad operation format (%j) → ENVELOPE_VALIDATION_ERROR at "operation"',
    (operation) => {
      expect(issuesFor({ operation })).toEqual([{ path: 'operation', message: expect.stringContaining('lower-case') }]);
    },
  );

  it('accepts well-formed dotted operations', () => {
    for (const operation of ['echo', 'db.query', 'graph.get_neighbors', 'http.v2.get']) {
      expect(parseEnvelope({ operation }, providers()).operation).toBe(operation);
    }
  });

  it('lists every problem, not only the first', () => {
    const issues = issuesFor({ operation: 'Bad Op', correlation_id: 'nope', ttl_seconds: -1 });
    expect(issues.map((i) => i.path).sort()).toEqual(['correlation_id', 'operation', 'ttl_seconds']);
  });

  it('rejects a payload that is not JSON-shaped', () => {
    expect(issuesFor({ operation: 'echo', payload: { f: () => 1 } })).toContainEqual(expect.objectContaining({ path: expect.stringMatching(/^payload/) }));
  });

  it('says how to fix it and names the fields in the message', () => {
    const error = catchOnexError(() => parseEnvelope({ operation: 'echo', correlation_id: 'x' }, providers()));
    expect(error.message).toContain('correlation_id');
    expect(error.hint).toBeTruthy();
    expect(error.retryable).toBe(false);
  });
});

describe('salvageIdentity', () => {
  it('returns the correlation id (lower-cased) of an invalid message', () => {
    const invalid = { correlation_id: CORRELATION_ID.toUpperCase(), envelope_id: ENVELOPE_ID, operation: 'NOT VALID', surprise: 1 };
    expect(salvageIdentity(invalid)).toEqual({ correlationId: CORRELATION_ID, envelopeId: ENVELOPE_ID });
  });

  it('returns nothing it cannot trust', () => {
    expect(salvageIdentity({ correlation_id: 'not-a-uuid', envelope_id: 7 })).toEqual({});
    expect(salvageIdentity(null)).toEqual({});
    expect(salvageIdentity('text')).toEqual({});
  });

  it('the validation error of an invalid message carries the salvaged correlation id', () => {
    const error = catchOnexError(() => parseEnvelope({ correlation_id: CORRELATION_ID, operation: 'Bad Op' }, providers()));
    expect(error.correlationId).toBe(CORRELATION_ID);
  });
});

describe('metadata.tenant_id (reserved)', () => {
  it('accepts a non-empty string', () => {
    expect(parseEnvelope({ operation: 'echo', metadata: { tenant_id: 'acme' } }, providers()).metadata).toEqual({ tenant_id: 'acme' });
  });

  it('accepts metadata without tenant_id', () => {
    expect(parseEnvelope({ operation: 'echo', metadata: { region: 'eu' } }, providers()).metadata).toEqual({ region: 'eu' });
  });

  it.each([[''], [42], [null], [{ id: 'acme' }], [['acme']]])('rejects tenant_id %j at metadata.tenant_id', (tenant) => {
    expect(issuesFor({ operation: 'echo', metadata: { tenant_id: tenant } })).toContainEqual(
      expect.objectContaining({ path: 'metadata.tenant_id' }),
    );
  });
});

describe('resolveHandlerType', () => {
  it('prefers the explicit handler type, else the operation prefix', () => {
    expect(resolveHandlerType({ handlerType: 'db', operation: 'query' })).toBe('db');
    expect(resolveHandlerType({ operation: 'db.query' })).toBe('db');
    expect(resolveHandlerType({ operation: 'echo' })).toBe('echo');
  });
});

describe('the OnexEnvelope type', () => {
  it('is a plain data object that survives structuredClone', () => {
    const e: OnexEnvelope = parseEnvelope(fullWire(), providers());
    expect(structuredClone(e)).toEqual(e);
  });
});

describe('parseEnvelope: dates and payload shape', () => {
  it('rejects a date that does not exist instead of rolling it over', () => {
    expect(() => parseEnvelope({ operation: 'db.query', timestamp: '2024-02-30T00:00:00.000Z' })).toThrow(/timestamp is not a real date-time/);
  });

  it('accepts the same canonical timestamp again (the fast path) and still rejects garbage after it', () => {
    const ts = '2024-05-06T07:08:09.010Z';
    expect(parseEnvelope({ operation: 'db.query', timestamp: ts }).timestamp).toBe(ts);
    expect(parseEnvelope({ operation: 'db.query', timestamp: ts }).timestamp).toBe(ts);
    expect(() => parseEnvelope({ operation: 'db.query', timestamp: 'yesterday' })).toThrow(/timestamp/);
  });

  it('refuses payloads nested deeper than MAX_JSON_DEPTH, and non-JSON objects', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH + 5; i += 1) deep = [deep];
    expect(() => parseEnvelope(JSON.stringify({ operation: 'db.query', payload: deep }))).toThrow(/payload must be JSON/);
    expect(() => parseEnvelope({ operation: 'db.query', payload: { when: new Date(0) } })).toThrow(/payload must be JSON/);
    expect(() => parseEnvelope({ operation: 'db.query', payload: { n: Number.NaN } })).toThrow(/payload must be JSON/);
  });
});

describe('envelope deadlines', () => {
  const at = '2026-01-15T09:30:00.000Z';
  it('is ttl_seconds after the timestamp, or metadata.deadline, whichever is sooner', () => {
    const base = { operation: 'http.get', timestamp: at };
    expect(envelopeDeadlineMs(parseEnvelope({ ...base }))).toBeUndefined();
    expect(envelopeDeadlineMs(parseEnvelope({ ...base, ttl_seconds: 5 }))).toBe(Date.parse(at) + 5000);
    expect(envelopeDeadlineMs(parseEnvelope({ ...base, metadata: { deadline: '2026-01-15T10:30:02+01:00' } }))).toBe(Date.parse(at) + 2000);
    expect(envelopeDeadlineMs(parseEnvelope({ ...base, ttl_seconds: 1, metadata: { deadline: '2026-01-15T09:30:02Z' } }))).toBe(Date.parse(at) + 1000);
  });

  it('follows each envelope\'s own timestamp when they alternate (the last parse is remembered, not reused wrongly)', () => {
    const later = '2026-01-15T09:31:00.000Z';
    const deadlines = [at, later, later, at].map((timestamp) => envelopeDeadlineMs(parseEnvelope({ operation: 'http.get', timestamp, ttl_seconds: 5 })));
    expect(deadlines).toEqual([Date.parse(at) + 5000, Date.parse(later) + 5000, Date.parse(later) + 5000, Date.parse(at) + 5000]);
  });

  it('refuses a metadata.deadline that is not a date-time with an offset, on both parse paths', () => {
    for (const deadline of ['tomorrow', '2026-01-15T09:30:00', 5]) {
      expect(() => parseEnvelope({ operation: 'http.get', metadata: { deadline } })).toThrow(/metadata.deadline is reserved/);
      expect(() => parseEnvelope(JSON.stringify({ operation: 'http.get', metadata: { deadline } }))).toThrow(/metadata.deadline is reserved/);
    }
  });
});
