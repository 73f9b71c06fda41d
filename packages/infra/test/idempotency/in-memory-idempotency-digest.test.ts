/**
 * InMemoryIdempotencyStore's request digests: an envelope id claimed for one request
 * (digest) is refused to another with `conflict`, in every state of its record, and the
 * record is left as it was.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../src/idempotency/in-memory-idempotency-store.js';

const LEASE_MS = 30_000;
const TTL_MS = 60_000;
const A = 'digest-a';
const B = 'digest-b';

function storeAt() {
  const clock = { ms: 1_000_000 };
  const store = new InMemoryIdempotencyStore({ ttlMs: TTL_MS, now: () => clock.ms });
  return {
    store,
    advance(ms: number) {
      clock.ms += ms;
    },
  };
}

describe('InMemoryIdempotencyStore digests', () => {
  it('replays a completed response to the same digest and refuses another, keeping the response', () => {
    const { store } = storeAt();
    expect(store.claim('env-1', 'host-a', LEASE_MS, A)).toEqual({ status: 'claimed' });
    store.complete('env-1', 'host-a', '{"first":true}');
    expect(store.claim('env-1', 'host-b', LEASE_MS, B)).toEqual({ status: 'conflict' });
    expect(store.claim('env-1', 'host-a', LEASE_MS, B)).toEqual({ status: 'conflict' });
    expect(store.claim('env-1', 'host-b', LEASE_MS, A)).toEqual({ status: 'completed', response: '{"first":true}' });
  });

  it('refuses another digest while the id is pending, for its owner and for others; the same digest behaves as before', () => {
    const { store } = storeAt();
    expect(store.claim('env-1', 'host-a', LEASE_MS, A)).toEqual({ status: 'claimed' });
    expect(store.claim('env-1', 'host-a', LEASE_MS, B)).toEqual({ status: 'conflict' });
    expect(store.claim('env-1', 'host-b', LEASE_MS, B)).toEqual({ status: 'conflict' });
    expect(store.claim('env-1', 'host-b', LEASE_MS, A)).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    expect(store.claim('env-1', 'host-a', LEASE_MS, A)).toEqual({ status: 'claimed' });
    // The refused claims took nothing: the owner still completes, and its answer stands.
    store.complete('env-1', 'host-a', '{"a":1}');
    expect(store.claim('env-1', 'host-b', LEASE_MS, A)).toEqual({ status: 'completed', response: '{"a":1}' });
  });

  it('does not hand an interrupted claim to another request; the same request takes it over', () => {
    const { store, advance } = storeAt();
    store.claim('env-1', 'host-dead', LEASE_MS, A);
    advance(LEASE_MS + 1);
    expect(store.claim('env-1', 'host-b', LEASE_MS, B)).toEqual({ status: 'conflict' });
    expect(store.claim('env-1', 'host-b', LEASE_MS, A)).toEqual({ status: 'claimed', interruptedOwner: 'host-dead' });
  });

  it('forgets the digest with the record: after the TTL the id is free for any request', () => {
    const { store, advance } = storeAt();
    store.claim('env-1', 'host-a', LEASE_MS, A);
    store.complete('env-1', 'host-a', '{}');
    advance(TTL_MS + 1);
    expect(store.claim('env-1', 'host-b', LEASE_MS, B)).toEqual({ status: 'claimed' });

    // A claim abandoned unreleased counts as absent a TTL past its lease.
    store.claim('env-2', 'host-dead', LEASE_MS, A);
    advance(LEASE_MS + TTL_MS + 1);
    expect(store.claim('env-2', 'host-b', LEASE_MS, B)).toEqual({ status: 'claimed', interruptedOwner: 'host-dead' });
  });

  it('checks nothing without a digest on either side', () => {
    const { store } = storeAt();
    store.claim('env-1', 'host-a', LEASE_MS);
    store.complete('env-1', 'host-a', '{"legacy":true}');
    expect(store.claim('env-1', 'host-b', LEASE_MS, B)).toEqual({ status: 'completed', response: '{"legacy":true}' });

    store.claim('env-2', 'host-a', LEASE_MS, A);
    store.complete('env-2', 'host-a', '{"digested":true}');
    expect(store.claim('env-2', 'host-b', LEASE_MS)).toEqual({ status: 'completed', response: '{"digested":true}' });
  });
});
