/**
 * InMemoryIdempotencyStore with a fixed, hand-advanced clock: claims, replays, leases,
 * TTL, release and the bounds that keep it from growing.
 */
import { HandlerConfigurationError } from '@onex/core';
import type { IdempotencyClaim, ProtocolIdempotencyStore } from '@onex/spi';
import { describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore, type InMemoryIdempotencyStoreOptions } from '../../src/idempotency/in-memory-idempotency-store.js';

const LEASE_MS = 30_000;

/** A store on a clock that only moves when the test says so. */
function storeAt(options: Omit<InMemoryIdempotencyStoreOptions, 'now'> = {}) {
  const clock = { ms: 1_000_000 };
  const store = new InMemoryIdempotencyStore({ ...options, now: () => clock.ms });
  return {
    store,
    advance(ms: number) {
      clock.ms += ms;
    },
    get nowMs() {
      return clock.ms;
    },
  };
}

/** Claims and completes `id` as `owner`, storing `response`. */
function execute(store: InMemoryIdempotencyStore, id: string, response: string, owner = 'host-a'): void {
  expect(store.claim(id, owner, LEASE_MS)).toEqual({ status: 'claimed' });
  store.complete(id, owner, response);
}

describe('InMemoryIdempotencyStore', () => {
  it('implements the spi interface and answers synchronously', () => {
    const store: ProtocolIdempotencyStore = new InMemoryIdempotencyStore();
    const claim = store.claim('env-1', 'host-a', LEASE_MS);
    expect(claim).not.toBeInstanceOf(Promise);
    expect(store.complete('env-1', 'host-a', '{}')).toBeUndefined();
    expect(store.kind).toBe('memory');
  });

  it('claims a new id, then replays the completed response to any owner', () => {
    const { store } = storeAt();
    expect(store.claim('env-1', 'host-a', LEASE_MS)).toEqual({ status: 'claimed' });
    store.complete('env-1', 'host-a', '{"ok":true}');
    const expected: IdempotencyClaim = { status: 'completed', response: '{"ok":true}' };
    expect(store.claim('env-1', 'host-a', LEASE_MS)).toEqual(expected);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual(expected);
    expect(store.size).toBe(1);
    expect(store.bytes).toBe('{"ok":true}'.length * 2);
  });

  it('gives the same owner its pending claim again (re-entrant), with a renewed lease', () => {
    const clock = storeAt();
    const { store } = clock;
    expect(store.claim('env-1', 'host-a', LEASE_MS)).toEqual({ status: 'claimed' });
    clock.advance(LEASE_MS - 1);
    const renewedAtMs = clock.nowMs;
    expect(store.claim('env-1', 'host-a', LEASE_MS)).toEqual({ status: 'claimed' });
    clock.advance(LEASE_MS - 1);
    // The first lease would have run out by now; the renewed one has not.
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({
      status: 'in_progress',
      owner: 'host-a',
      leaseExpiresAtMs: renewedAtMs + LEASE_MS,
    });
  });

  it('answers in_progress to another owner while the lease is live', () => {
    const { store, nowMs } = storeAt();
    store.claim('env-1', 'host-a', LEASE_MS);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'in_progress', owner: 'host-a', leaseExpiresAtMs: nowMs + LEASE_MS });
  });

  it('hands an expired claim to the next owner and names the interrupted one', () => {
    const { store, advance } = storeAt();
    store.claim('env-1', 'host-a', LEASE_MS);
    advance(LEASE_MS);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed', interruptedOwner: 'host-a' });
    // The interrupted owner finishing late does not overwrite the new owner's work.
    store.complete('env-1', 'host-a', '"late"');
    expect(store.claim('env-1', 'host-c', LEASE_MS)).toMatchObject({ status: 'in_progress', owner: 'host-b' });
    store.complete('env-1', 'host-b', '"b"');
    expect(store.claim('env-1', 'host-c', LEASE_MS)).toEqual({ status: 'completed', response: '"b"' });
  });

  it('keeps the first completion: a second complete is ignored', () => {
    const { store } = storeAt();
    execute(store, 'env-1', '"first"');
    store.complete('env-1', 'host-a', '"second"');
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '"first"' });
  });

  it('forgets a completed response after its TTL', () => {
    const { store, advance } = storeAt({ ttlMs: 60_000 });
    execute(store, 'env-1', '"r"');
    advance(59_999);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '"r"' });
    advance(1);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.bytes).toBe(0);
  });

  it('drops expired responses as time passes, without them being asked for', () => {
    const { store, advance } = storeAt({ ttlMs: 60_000 });
    execute(store, 'old-1', '"1"');
    execute(store, 'old-2', '"2"');
    advance(60_000);
    store.claim('new', 'host-a', LEASE_MS);
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(0);
  });

  it('release lets the next delivery execute at once; only the owner can release', () => {
    const { store } = storeAt();
    store.claim('env-1', 'host-a', LEASE_MS);
    store.release('env-1', 'host-b');
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    store.release('env-1', 'host-a');
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.size).toBe(1);
  });

  it('releasing a completed id changes nothing', () => {
    const { store } = storeAt();
    execute(store, 'env-1', '"r"');
    store.release('env-1', 'host-a');
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '"r"' });
  });

  it('evicts the oldest completed entries first when over maxEntries', () => {
    const { store } = storeAt({ maxEntries: 3 });
    execute(store, 'c-1', '"1"');
    store.claim('p-1', 'host-a', LEASE_MS);
    execute(store, 'c-2', '"2"');
    execute(store, 'c-3', '"3"');
    expect(store.size).toBe(3);
    // c-1 went first; the older pending claim p-1 stays.
    expect(store.claim('c-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.claim('p-1', 'host-b', LEASE_MS)).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    expect(store.size).toBe(3);
  });

  it('evicts pending claims, oldest first, only when no completed entry is left', () => {
    const { store } = storeAt({ maxEntries: 2 });
    store.claim('p-1', 'host-a', LEASE_MS);
    store.claim('p-2', 'host-a', LEASE_MS);
    store.claim('p-3', 'host-a', LEASE_MS);
    expect(store.size).toBe(2);
    expect(store.claim('p-3', 'host-b', LEASE_MS)).toMatchObject({ status: 'in_progress' });
    expect(store.claim('p-2', 'host-b', LEASE_MS)).toMatchObject({ status: 'in_progress' });
    expect(store.claim('p-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.size).toBe(2);
  });

  it('evicts the oldest completed entries when stored responses exceed maxBytes', () => {
    // 1 600 bytes in all; each 50-character response counts 100 bytes (limit per response: 100).
    const { store } = storeAt({ maxBytes: 1_600 });
    const response = (n: number) => `"${String(n).padStart(48, '0')}"`;
    for (let n = 1; n <= 17; n += 1) execute(store, `env-${n}`, response(n));
    expect(store.bytes).toBe(1_600);
    expect(store.size).toBe(16);
    expect(store.claim('env-1', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.claim('env-2', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: response(2) });
    expect(store.claim('env-17', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: response(17) });
  });

  it('does not store a response larger than maxBytes / 16, and keeps the others', () => {
    const { store } = storeAt({ maxBytes: 1_600 });
    execute(store, 'small', '"s"');
    // 51 characters = 102 bytes > 1 600 / 16.
    execute(store, 'huge', `"${'x'.repeat(49)}"`);
    expect(store.claim('small', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '"s"' });
    // Not stored, and its claim is gone: a redelivery executes it again at once.
    expect(store.claim('huge', 'host-b', LEASE_MS)).toEqual({ status: 'claimed' });
    expect(store.bytes).toBe(6);
  });

  it('stays bounded under a long stream of envelopes', () => {
    const { store, advance } = storeAt({ maxEntries: 100, maxBytes: 64_000 });
    for (let n = 0; n < 10_000; n += 1) {
      execute(store, `env-${n}`, `{"n":${n}}`);
      if (n % 7 === 0) store.claim(`abandoned-${n}`, 'host-a', LEASE_MS);
      advance(1);
    }
    expect(store.size).toBeLessThanOrEqual(100);
    expect(store.bytes).toBeLessThanOrEqual(64_000);
    expect(store.claim('env-9999', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '{"n":9999}' });
  });

  it('close forgets everything', async () => {
    const { store } = storeAt();
    execute(store, 'env-1', '"r"');
    await store.close();
    await store.close();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it('rejects options that are not positive integers', () => {
    expect(() => new InMemoryIdempotencyStore({ maxEntries: 0 })).toThrow(HandlerConfigurationError);
    expect(() => new InMemoryIdempotencyStore({ ttlMs: Number.NaN })).toThrow(/ttlMs must be a positive integer/);
    expect(() => new InMemoryIdempotencyStore({ maxBytes: 1.5 })).toThrow(HandlerConfigurationError);
  });
});
