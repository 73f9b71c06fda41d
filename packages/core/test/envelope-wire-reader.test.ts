/**
 * The hand-written fast path of `parseEnvelope` against the zod schema it mirrors: the
 * same corpus goes through both, and they must give the same verdict, the same envelope
 * (and consume the providers alike), and for rejections `parseEnvelope` must throw the
 * schema's error unchanged. Valid inputs the fast path declines are listed explicitly,
 * so it can neither accept too much nor quietly stop being fast.
 */
import { describe, expect, it } from 'vitest';
import {
  HandlerNotFoundError,
  MAX_JSON_DEPTH,
  createErrorResponse,
  createInvalidEnvelopeResponse,
  createRequestEnvelope,
  createSuccessResponse,
  isOnexError,
  parseEnvelope,
  serializeEnvelope,
  EnvelopeValidationError,
  type EnvelopeProviders,
  type OnexEnvelope,
} from '../src/index.js';
import { deterministicProviders } from '../src/testing/index.js';
import { wireEnvelopeSchema } from '../src/envelope/envelope-schema.js';
import { isCanonicalTimestamp, isWireKey, readWireEnvelopeFast, readWireEnvelopeWithSchema } from '../src/envelope/envelope-wire-reader.js';

const UUID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const CORRELATION = '11111111-2222-4333-8444-555555555555';

/** A marker for "remove this field" in a variant. */
const ABSENT = Symbol('absent');
/** A value whose JSON text is spliced in raw, for what only JSON text can express (`1e400`, `"\ud800"`). */
class RawJson {
  constructor(readonly text: string) {}
}
type Variant = unknown;

interface Case {
  readonly label: string;
  readonly value: object;
  /** Valid, but in a form the fast path leaves to the schema. */
  readonly rare?: boolean;
}

type Outcome =
  | { readonly ok: true; readonly envelope: OnexEnvelope; readonly nextId: string; readonly nextTime: string }
  | { readonly ok: false; readonly error: Record<string, unknown> };

function outcome(read: (providers: EnvelopeProviders) => OnexEnvelope): Outcome {
  const providers = deterministicProviders();
  try {
    const envelope = read(providers);
    return { ok: true, envelope, nextId: providers.ids.nextId(), nextTime: providers.clock.now().toISOString() };
  } catch (error) {
    if (!isOnexError(error)) throw error;
    return {
      ok: false,
      error: {
        class: error.constructor.name,
        code: error.code,
        message: error.message,
        hint: error.hint,
        details: error.details,
        correlationId: error.correlationId,
        handlerType: error.handlerType,
        operation: error.operation,
        retryable: error.retryable,
      },
    };
  }
}

/** Valid messages the fast path must handle: a request, a response, an error response, plain objects. */
function bases(): Record<string, Record<string, unknown>> {
  const p = deterministicProviders();
  const request = createRequestEnvelope({ operation: 'db.query', targetNode: 'user_service', payload: { sql: 'SELECT 1' }, correlationId: CORRELATION, ttlSeconds: 30 }, p);
  const ok = createSuccessResponse(request, { rows: [{ id: 1 }], count: 1 }, p);
  const failed = createErrorResponse(
    request,
    new HandlerNotFoundError("No handler registered for type 'vault'", { handlerType: 'vault', details: { available_handlers: ['db', 'http'] } }),
    p,
  );
  const invalid = createInvalidEnvelopeResponse({ correlationId: CORRELATION }, new EnvelopeValidationError('Invalid envelope: operation is required', { details: { issues: [] } }), p);
  const wire = (e: OnexEnvelope) => JSON.parse(serializeEnvelope(e)) as Record<string, unknown>;
  return {
    full: {
      envelope_id: UUID,
      envelope_version: '1.0.0',
      correlation_id: CORRELATION,
      causation_id: '99999999-8888-4777-8666-555555555555',
      source_node: 'gateway',
      target_node: 'user_service',
      handler_type: 'db',
      operation: 'db.query',
      payload: { sql: 'SELECT 1', params: [1, 'two', null, true], nested: { deep: [{ x: 1.5 }] } },
      metadata: { tenant_id: 'acme', trace: 'abc' },
      timestamp: '2024-05-06T07:08:09.123Z',
      is_response: false,
      success: null,
      error: null,
      ttl_seconds: 30,
    },
    plain: { operation: 'echo' },
    request: wire(request),
    response: wire(ok),
    errorResponse: wire(failed),
    invalidResponse: wire(invalid),
  };
}

const deep = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
};

/** `[<hole>, 1]`: `for…of` reads the hole as undefined, which is not JSON. */
function sparse(): unknown[] {
  const holes: unknown[] = [];
  holes[1] = 1;
  return holes;
}

const UUIDS: Variant[] = [
  UUID,
  UUID.toUpperCase(),
  'AAAAaaaa-bbbb-4CCC-8ddd-eeeeeeeeeeeE',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'ABCDEF01-2345-6789-abcd-ef0123456789',
  '',
  'not-a-uuid',
  UUID.slice(1),
  `${UUID}a`,
  ` ${UUID}`,
  `${UUID}\n`,
  UUID.replace('a', 'g'),
  UUID.replace('a', 'G'),
  UUID.replaceAll('-', ''),
  'aaaaaaaab-bbb-4ccc-8ddd-eeeeeeeeeeee',
  'aaaaaaaa_bbbb_4ccc_8ddd_eeeeeeeeeeee',
  `{${UUID.slice(1, -1)}}`,
  UUID.replace('a', '\uff41'),
  UUID.replace('a', '\u00e1'),
  UUID.replace('e', '\u212a'),
  0,
  1,
  true,
  {},
  [],
  null,
  ABSENT,
];

const VERSIONS: Variant[] = [
  '1.0.0',
  '1.4.2',
  '1.10.100',
  '01.0.0',
  '001.2.3',
  '1.99999999999999999999.0',
  '1.0',
  '1',
  '1.0.0.0',
  '1..0',
  '.1.0',
  '1.0.',
  '2.0.0',
  '0.9.0',
  '10.0.0',
  '99999999999999999999.0.0',
  ' 1.0.0',
  '1.0.0 ',
  '1.0.0\n',
  'v1.0.0',
  '1.0.0-beta',
  '1e0.0.0',
  '0x1.0.0',
  '\uff11.0.0',
  '\u0661.0.0',
  '',
  1,
  null,
  true,
  [1, 0, 0],
  { major: 1, minor: 0, patch: 0 },
  { major: 1, minor: 2, patch: 3 },
  { major: 2, minor: 0, patch: 0 },
  { major: 1, minor: 0 },
  { major: 1, minor: 0, patch: 0, extra: 1 },
  { major: '1', minor: 0, patch: 0 },
  { major: 1.5, minor: 0, patch: 0 },
  { major: 1, minor: -1, patch: 0 },
  ABSENT,
];

const SLUGS: Variant[] = [
  'a',
  'echo',
  'User Service \u2713',
  'x'.repeat(200),
  'x'.repeat(201),
  '\u{1F600}'.repeat(100),
  '\u{1F600}'.repeat(101),
  '\u{1F600}'.repeat(200),
  '\u{1F600}'.repeat(201),
  `${'\u{1F600}'.repeat(100)}\ud800`,
  `x${'\u{1F600}'.repeat(100)}\udc00`,
  new RawJson('"\\ud800"'),
  '\u0000',
  '',
  ' ',
  null,
  0,
  true,
  {},
  [],
  ABSENT,
];

const HANDLER_TYPES: Variant[] = ['db', 'http', 'a', 'a_1', 'local_v2', 'Db', 'DB', '1db', '_db', 'db-x', 'db.x', 'db ', 'db\n', '\u00e4', '', null, 1, ABSENT];

const OPERATIONS: Variant[] = [
  'echo',
  'db.query',
  'graph.get_neighbors',
  'http.v2.get',
  'a',
  'a.b.c.d',
  'a1_.b',
  'x'.repeat(5000),
  '',
  'DB.Query',
  'db..query',
  '.query',
  'db.query.',
  'db query',
  '1db.query',
  'db-query',
  'db._x',
  'db.1x',
  '\u00e9',
  'db.query\n',
  ' db',
  '\u212aey',
  null,
  1,
  [],
  {},
  ABSENT,
];

const PAYLOADS: Variant[] = [
  ABSENT,
  null,
  0,
  1.5,
  1e308,
  -1e308,
  new RawJson('123456789012345678901234567890'),
  new RawJson('1e400'),
  new RawJson('-0'),
  'text',
  '',
  '\u043f\u0440\u0438\u0432\u0435\u0442 \u{1F600}',
  true,
  [],
  [1, [2, [3]]],
  { a: { b: { c: [] } } },
  deep(MAX_JSON_DEPTH - 1),
  deep(MAX_JSON_DEPTH),
  deep(MAX_JSON_DEPTH + 1),
  new RawJson('{"__proto__":{"polluted":true},"x":1}'),
  { constructor: { prototype: { polluted: true } } },
  Array.from({ length: 1000 }, (_, i) => ({ i, s: `item ${i}` })),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  { missing: undefined },
  { f: () => 1 },
  new Date(0),
  new Map([['a', 1]]),
  new (class Point {
    x = 1;
  })(),
  Object.assign(Object.create(null) as object, { a: 1 }),
  sparse(),
  1n,
];

const METADATA: Variant[] = [
  ABSENT,
  null,
  {},
  { tenant_id: 'acme' },
  { tenant_id: '' },
  { tenant_id: 42 },
  { tenant_id: null },
  { tenant_id: {} },
  { tenant_id: ['acme'] },
  { region: 'eu', nested: { a: [1] } },
  { original_target_node: 'echo' },
  new RawJson('{"__proto__":{"tenant_id":""}}'),
  [],
  'x',
  1,
  true,
  { f: Number.NaN },
  deep(MAX_JSON_DEPTH + 1) as object,
  { deep: deep(MAX_JSON_DEPTH) },
  { deep: deep(MAX_JSON_DEPTH - 1) },
];

const TIMESTAMPS: Variant[] = [
  '2024-05-06T07:08:09.123Z',
  '2024-02-29T23:59:59.999Z',
  '2000-02-29T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '2023-02-29T00:00:00.000Z',
  '1900-02-29T00:00:00.000Z',
  '2024-02-30T00:00:00.000Z',
  '2024-04-31T00:00:00.000Z',
  '2024-00-10T00:00:00.000Z',
  '2024-13-10T00:00:00.000Z',
  '2024-01-00T00:00:00.000Z',
  '2024-01-32T00:00:00.000Z',
  '2024-01-01T24:00:00.000Z',
  '2024-01-01T23:60:00.000Z',
  '2024-01-01T23:59:60.000Z',
  '2024-01-01t00:00:00.000Z',
  '2024-01-01T00:00:00.000z',
  '2024-01-01 00:00:00.000Z',
  '2024-01-01T00:00:00.00Z',
  '2024-01-01T00:00:00.0000Z',
  '+002024-01-01T00:00:00.000Z',
  '\u0662024-01-01T00:00:00.000Z',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.123456Z',
  '2024-01-01T02:00:00+02:00',
  '2024-06-30T19:30:00-04:30',
  '2024-01-01T00:00:00.000+00:00',
  '2024-01-01T00:00:00',
  'yesterday',
  '2024-01-01',
  '',
  null,
  0,
  ABSENT,
];

const BOOLEANS: Variant[] = [true, false, null, 'true', 1, 0, [], ABSENT];

const ERRORS: Variant[] = [
  { code: 'X', message: 'm' },
  { code: 'X', message: '' },
  { code: '', message: 'm' },
  { message: 'm' },
  { code: 'X' },
  { code: 1, message: 'm' },
  { code: 'X', message: 'm', handler_type: 'db', operation: 'db.query', retryable: false, hint: 'h', details: { a: 1 } },
  { extra: 'first', code: 'X', message: 'm', operation: 'db.query', handler_type: 'db' },
  { code: 'X', message: 'm', handler_type: 5 },
  { code: 'X', message: 'm', operation: null },
  { code: 'X', message: 'm', extra: [1, { b: 2 }], f: Number.NaN },
  { code: 'X', message: 'm', handler_type: undefined },
  new RawJson('{"code":"X","message":"m","__proto__":{"a":1},"after":2}'),
  Object.assign(Object.create(null) as object, { code: 'X', message: 'm' }),
  [],
  'err',
  1,
  true,
  null,
  ABSENT,
];

const TTLS: Variant[] = [
  1,
  30,
  2 ** 53 - 1,
  2 ** 53,
  0,
  -1,
  1.5,
  1e308,
  new RawJson('1e400'),
  new RawJson('30.0'),
  new RawJson('3e1'),
  '30',
  null,
  true,
  [],
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0,
  ABSENT,
];

const EXTRA_KEYS = ['colour', '__proto__', 'constructor', 'toString', 'Operation', '', 'envelopeId', 'payload ', 'ttl', '\u043a\u043b\u044e\u0447'];

const FIELDS: Record<string, Variant[]> = {
  envelope_id: UUIDS,
  envelope_version: VERSIONS,
  correlation_id: UUIDS,
  causation_id: UUIDS,
  source_node: SLUGS,
  target_node: SLUGS,
  handler_type: HANDLER_TYPES,
  operation: OPERATIONS,
  payload: PAYLOADS,
  metadata: METADATA,
  timestamp: TIMESTAMPS,
  is_response: BOOLEANS,
  success: BOOLEANS,
  error: ERRORS,
  ttl_seconds: TTLS,
};

/** Serializable to JSON text without losing anything JSON.parse would give back. */
function jsonSafe(value: unknown): boolean {
  try {
    const text = JSON.stringify(value);
    return text !== undefined && JSON.stringify(JSON.parse(text)) === text && !/"__proto__"/.test(text) && sameJson(JSON.parse(text), value);
  } catch {
    return false;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (typeof b === 'number') return Object.is(a, b);
  if (typeof b !== 'object' || b === null || typeof a !== 'object' || a === null) return a === b;
  if (Object.getPrototypeOf(b) !== Object.prototype && !Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysB.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** JSON text for a base with `field` set to `variant`, or undefined when the variant is not expressible as JSON. */
function jsonText(base: Record<string, unknown>, field: string, variant: Variant): string | undefined {
  const parts: string[] = [];
  let placed = false;
  const put = (key: string, value: unknown): boolean => {
    if (value === ABSENT) return true;
    if (value instanceof RawJson) {
      parts.push(`${JSON.stringify(key)}:${value.text}`);
      return true;
    }
    if (!jsonSafe(value)) return false;
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    return true;
  };
  for (const [key, value] of Object.entries(base)) {
    if (key === field) {
      placed = true;
      if (!put(key, variant)) return undefined;
    } else if (!put(key, value)) {
      return undefined;
    }
  }
  if (!placed && !put(field, variant)) return undefined;
  return `{${parts.join(',')}}`;
}

/** The object form of the same variant (for values JSON cannot carry: NaN, undefined, functions, class instances). */
function objectValue(base: Record<string, unknown>, field: string, variant: Variant): object | undefined {
  if (variant instanceof RawJson) return undefined;
  const copy: Record<string, unknown> = { ...base };
  if (variant === ABSENT) delete copy[field];
  else copy[field] = variant;
  return copy;
}

/** Valid forms the fast path leaves to the schema on purpose. */
function isRareForm(field: string, variant: Variant): boolean {
  if (field === 'envelope_version') return typeof variant === 'object' && variant !== null && !Array.isArray(variant);
  if (field === 'timestamp') return typeof variant === 'string' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(variant);
  // An error body that is an object but not a plain one (zod reads any object).
  if (field === 'error') return !(variant instanceof RawJson) && typeof variant === 'object' && variant !== null && !Array.isArray(variant) && Object.getPrototypeOf(variant) !== Object.prototype;
  return false;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const [name, base] of Object.entries(bases())) {
    cases.push({ label: `${name} as is`, value: base });
    for (const [field, variants] of Object.entries(FIELDS)) {
      variants.forEach((variant, index) => {
        const label = `${name}.${field}[${index}]`;
        const text = jsonText(base, field, variant);
        if (text !== undefined) cases.push({ label: `${label} (text)`, value: JSON.parse(text) as object, rare: isRareForm(field, variant) });
        const object = objectValue(base, field, variant);
        if (object !== undefined && (text === undefined || !jsonSafe(variant))) cases.push({ label: `${label} (object)`, value: object, rare: isRareForm(field, variant) });
      });
    }
    for (const key of EXTRA_KEYS) {
      cases.push({ label: `${name} + key ${JSON.stringify(key)}`, value: JSON.parse(`{${JSON.stringify(key)}:1,${JSON.stringify(base).slice(1)}`) as object });
    }
  }
  // Objects that are not plain: zod reads them like any object, the fast path leaves them to zod.
  class Message {
    operation = 'echo';
    payload = { n: 1 };
  }
  cases.push({ label: 'class instance', value: new Message(), rare: true });
  cases.push({ label: 'null-prototype object', value: Object.assign(Object.create(null) as object, { operation: 'echo' }), rare: true });
  cases.push({ label: 'object inheriting operation', value: Object.create({ operation: 'echo' }) as object, rare: true });
  cases.push({ label: 'prototype pollution attempt', value: JSON.parse('{"operation":"echo","__proto__":{"operation":"x","tenant_id":""}}') as object });
  return cases;
}

/**
 * Compares both readers on one input; returns a description of the disagreement, if
 * any. `exact`: valid inputs must take the fast path unless the case is marked rare
 * (and then must not); `subset`: the fast path may decline anything valid.
 */
function disagreement(c: Case, mode: 'exact' | 'subset' = 'exact'): string | undefined {
  const schema = outcome((p) => readWireEnvelopeWithSchema(c.value, p));
  let fastEnvelope: OnexEnvelope | undefined;
  const fast = outcome((p) => {
    fastEnvelope = readWireEnvelopeFast(c.value, p);
    return fastEnvelope ?? readWireEnvelopeWithSchema(c.value, p);
  });
  const parsed = outcome((p) => parseEnvelope(c.value, p));
  const show = (o: Outcome) => (o.ok ? `accepted` : `rejected: ${String(o.error.message)}`);
  if (!schema.ok) {
    if (fastEnvelope !== undefined) return `${c.label}: the schema rejects (${show(schema)}) but the fast path accepts`;
    if (!sameOutcome(parsed, schema)) return `${c.label}: parseEnvelope's error differs from the schema's`;
    return undefined;
  }
  if (fastEnvelope === undefined) {
    if (mode === 'exact' && !c.rare) return `${c.label}: valid, but the fast path declines it`;
  } else {
    if (mode === 'exact' && c.rare) return `${c.label}: expected the fast path to decline this form (update the list if it learned it)`;
    if (!sameOutcome(fast, schema)) return `${c.label}: the fast path builds a different envelope`;
  }
  if (!sameOutcome(parsed, schema)) return `${c.label}: parseEnvelope differs from the schema`;
  return undefined;
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  try {
    // toEqual rather than toStrictEqual: a payload key named "constructor" defeats the
    // latter's type check. Key lists are compared explicitly below instead.
    expect(a).toEqual(b);
    if (a.ok && b.ok) {
      // Same keys in the same order (the error body is copied), and the same text on the wire.
      expect(Object.keys(a.envelope)).toEqual(Object.keys(b.envelope));
      if (a.envelope.error !== undefined && b.envelope.error !== undefined) {
        expect(Object.keys(a.envelope.error)).toEqual(Object.keys(b.envelope.error));
        // A "__proto__" member must not become the copy's prototype.
        expect(Object.getPrototypeOf(a.envelope.error)).toBe(Object.getPrototypeOf(b.envelope.error));
      }
      expect(serializeEnvelope(a.envelope)).toBe(serializeEnvelope(b.envelope));
    }
    return true;
  } catch {
    return false;
  }
}

/** A small seeded generator, so a failing fuzz case is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseEnvelope fast path vs wireEnvelopeSchema', () => {
  const cases = corpus();

  it('builds a corpus that covers every field, both verdicts and the rare valid forms', () => {
    const verdicts = cases.map((c) => outcome((p) => readWireEnvelopeWithSchema(c.value, p)).ok);
    expect(cases.length).toBeGreaterThan(1500);
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(300);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThan(800);
    expect(cases.filter((c) => c.rare).length).toBeGreaterThan(30);
  });

  it('gives the same verdict, envelope and error as the schema for every corpus input', () => {
    const problems = cases.map((c) => disagreement(c)).filter((d) => d !== undefined);
    expect(problems).toEqual([]);
  });

  it('gives the same answers for the JSON text of every corpus input', () => {
    const problems: string[] = [];
    for (const c of cases) {
      let text: string;
      try {
        text = JSON.stringify(c.value);
      } catch {
        continue;
      }
      const viaText = outcome((p) => parseEnvelope(text, p));
      const viaSchema = outcome((p) => readWireEnvelopeWithSchema(JSON.parse(text) as object, p));
      if (!sameOutcome(viaText, viaSchema)) problems.push(c.label);
    }
    expect(problems).toEqual([]);
  });

  it('agrees with the schema on thousands of random mutations of valid messages', () => {
    const random = mulberry32(20241122);
    const alphabet = '0123456789abcdefABCDEFgG-.:TZz _"\\{}[],:\u00e9\u212a\u0000nulltrue';
    const problems: string[] = [];
    let objects = 0;
    for (const [name, base] of Object.entries(bases())) {
      const source = JSON.stringify(base);
      for (let i = 0; i < 1200; i += 1) {
        let text = source;
        for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits -= 1) {
          const at = Math.floor(random() * text.length);
          const char = alphabet[Math.floor(random() * alphabet.length)] ?? '';
          const kind = random();
          text = kind < 0.5 ? text.slice(0, at) + char + text.slice(at + 1) : kind < 0.75 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + char + text.slice(at);
        }
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
        objects += 1;
        const problem = disagreement({ label: `${name} mutated: ${text}`, value }, 'subset');
        if (problem !== undefined) problems.push(problem);
      }
    }
    expect(objects).toBeGreaterThan(1500);
    expect(problems).toEqual([]);
  }, 60_000);

  it('accepts exactly the canonical timestamps the schema accepts unchanged, across calendars and clocks', () => {
    const years = [0, 1, 4, 100, 400, 1582, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999];
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const texts: string[] = [];
    for (const year of years) {
      for (let month = 0; month <= 13; month += 1) {
        for (let day = 0; day <= 32; day += 1) texts.push(`${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T12:34:56.789Z`);
      }
    }
    for (let hour = 0; hour <= 25; hour += 1) texts.push(`2024-03-10T${pad(hour, 2)}:00:00.000Z`);
    for (let minute = 0; minute <= 61; minute += 1) texts.push(`2024-03-10T00:${pad(minute, 2)}:00.000Z`);
    for (let second = 0; second <= 61; second += 1) texts.push(`2024-03-10T00:00:${pad(second, 2)}.999Z`);
    texts.push('2024-12-31T23:59:59.999Z', '2024-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z');
    const problems: string[] = [];
    for (const text of texts) {
      const schema = outcome((p) => readWireEnvelopeWithSchema({ operation: 'echo', timestamp: text }, p));
      const schemaKeepsIt = schema.ok && schema.envelope.timestamp === text;
      if (isCanonicalTimestamp(text) !== schemaKeepsIt) problems.push(`${text}: schema ${schemaKeepsIt ? 'accepts' : 'rejects'}`);
    }
    expect(texts.length).toBeGreaterThan(7000);
    expect(problems).toEqual([]);
  });

  it('knows exactly the fields of the schema', () => {
    const fields = Object.keys(wireEnvelopeSchema.shape);
    expect(fields.filter((key) => !isWireKey(key))).toEqual([]);
    const others = [...EXTRA_KEYS, 'envelopeId', 'ttlSeconds', 'errors', 'Payload'];
    expect(others.filter((key) => isWireKey(key))).toEqual([]);
    expect(fields).toHaveLength(15);
  });

  it('handles what this runtime itself writes without the schema', () => {
    for (const [name, base] of Object.entries(bases())) {
      expect(readWireEnvelopeFast(JSON.parse(JSON.stringify(base)) as object, deterministicProviders()), name).toBeDefined();
    }
  });

  it('consumes no id or time from the providers when it declines', () => {
    const p = deterministicProviders();
    expect(readWireEnvelopeFast({ operation: 'Not Valid' }, p)).toBeUndefined();
    expect(readWireEnvelopeFast({ operation: 'echo', ttl_seconds: 0 }, p)).toBeUndefined();
    expect(p.ids.nextId()).toBe(deterministicProviders().ids.nextId());
  });
});

describe('serializeEnvelope round trip over the corpus', () => {
  it('serialize(parse(x)) is the text of the schema-path envelope, and parses back to it', () => {
    const problems: string[] = [];
    for (const c of corpus()) {
      const schema = outcome((p) => readWireEnvelopeWithSchema(c.value, p));
      if (!schema.ok) continue;
      const text = serializeEnvelope(parseEnvelope(c.value, deterministicProviders()));
      if (text !== serializeEnvelope(schema.envelope)) problems.push(`${c.label}: different text`);
      // JSON has no -0 and drops undefined members, so compare what JSON can carry.
      const again = parseEnvelope(text, deterministicProviders());
      if (serializeEnvelope(again) !== text) problems.push(`${c.label}: not a fixed point`);
      try {
        expect(JSON.parse(JSON.stringify(again))).toEqual(JSON.parse(JSON.stringify(schema.envelope)));
      } catch {
        problems.push(`${c.label}: parses back to a different envelope`);
      }
    }
    expect(problems).toEqual([]);
  });
});
