import { describe, expect, it } from 'vitest';
import { createRequestEnvelope, isUuid } from '@onex/core';
import { DeterministicClock, DeterministicIdGenerator, deterministicProviders } from '@onex/core/testing';

describe('DeterministicIdGenerator', () => {
  it('seed 42 (the default) starts at ...2b, like UUID(int=43)', () => {
    const ids = new DeterministicIdGenerator(42);
    expect(ids.nextId()).toBe('00000000-0000-0000-0000-00000000002b');
    expect(ids.nextId()).toBe('00000000-0000-0000-0000-00000000002c');
    expect(new DeterministicIdGenerator().nextId()).toBe('00000000-0000-0000-0000-00000000002b');
  });

  it('seed 0 starts at 1', () => {
    expect(new DeterministicIdGenerator(0).nextId()).toBe('00000000-0000-0000-0000-000000000001');
  });

  it('two generators with the same seed give the same sequence, independently', () => {
    const a = new DeterministicIdGenerator(7);
    const b = new DeterministicIdGenerator(7);
    const fromA = [a.nextId(), a.nextId(), a.nextId()];
    expect([b.nextId(), b.nextId(), b.nextId()]).toEqual(fromA);
    expect(new Set(fromA).size).toBe(3);
  });

  it('large counters spill into the higher groups and stay valid lower-case UUIDs', () => {
    const ids = new DeterministicIdGenerator(2 ** 48 - 1);
    const id = ids.nextId();
    expect(id).toBe('00000000-0000-0000-0001-000000000000');
    expect(isUuid(id)).toBe(true);
    expect(id).toBe(id.toLowerCase());
  });
});

describe('DeterministicClock', () => {
  it('starts at 2024-01-01T00:00:00Z by default and does not move by itself', () => {
    const clock = new DeterministicClock();
    expect(clock.now().toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('advance(seconds) moves it forward', () => {
    const clock = new DeterministicClock();
    clock.advance(90);
    expect(clock.now().toISOString()).toBe('2024-01-01T00:01:30.000Z');
    clock.advance(0.5);
    expect(clock.now().toISOString()).toBe('2024-01-01T00:01:30.500Z');
  });

  it('accepts a start as a string or a Date', () => {
    expect(new DeterministicClock('2030-06-15T12:00:00Z').now().toISOString()).toBe('2030-06-15T12:00:00.000Z');
    expect(new DeterministicClock(new Date(Date.UTC(2000, 0, 2))).now().toISOString()).toBe('2000-01-02T00:00:00.000Z');
  });

  it('hands out copies: changing a returned Date does not move the clock', () => {
    const clock = new DeterministicClock();
    clock.now().setUTCFullYear(1999);
    expect(clock.now().toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('deterministicProviders', () => {
  it('gives reproducible envelopes', () => {
    const a = createRequestEnvelope({ operation: 'local.echo', payload: 1 }, deterministicProviders());
    const b = createRequestEnvelope({ operation: 'local.echo', payload: 1 }, deterministicProviders());
    expect(a).toEqual(b);
    expect(a.envelopeId).toBe('00000000-0000-0000-0000-00000000002b');
    expect(a.timestamp).toBe('2024-01-01T00:00:00.000Z');
  });

  it('takes a seed and a start', () => {
    const p = deterministicProviders(0, '2025-02-03T04:05:06Z');
    expect(p.ids.nextId()).toBe('00000000-0000-0000-0000-000000000001');
    expect(p.clock.now().toISOString()).toBe('2025-02-03T04:05:06.000Z');
  });
});
