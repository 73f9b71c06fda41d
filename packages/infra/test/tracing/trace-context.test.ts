import { describe, expect, it } from 'vitest';
import { carriedTraceContext, formatTraceparent, parseTraceparent } from '../../src/tracing/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it('reads a version-00 traceparent and writes it back the same', () => {
    const context = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(context).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(formatTraceparent(context!)).toBe(`00-${TRACE}-${SPAN}-01`);
  });

  it.each([
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['extra fields on version 00', `00-${TRACE}-${SPAN}-01-extra`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['garbage', 'not a traceparent'],
  ])('refuses %s', (_why, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('reads the known fields of a later version and keeps only the sampled flag', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-03-whatever`)).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  });

  it('prefers the envelope metadata over transport headers, and reports a malformed one as such', () => {
    const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`;
    expect(carriedTraceContext({ traceparent: `00-${TRACE}-${SPAN}-01` }, { traceparent: other })).toMatchObject({ kind: 'valid', source: 'metadata', context: { traceId: TRACE } });
    expect(carriedTraceContext({}, { traceparent: other })).toMatchObject({ kind: 'valid', source: 'header', context: { traceId: '1'.repeat(32) } });
    expect(carriedTraceContext({ traceparent: 42 }, { traceparent: other })).toEqual({ kind: 'malformed', source: 'metadata' });
    expect(carriedTraceContext({}, undefined)).toEqual({ kind: 'none' });
  });
});
