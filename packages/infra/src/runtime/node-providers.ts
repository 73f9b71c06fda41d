import { randomUUID } from 'node:crypto';
import { systemClock, type EnvelopeProviders, type IdProvider } from '@onex/core';

/**
 * Node's own `crypto.randomUUID` draws from a pre-filled entropy buffer and skips the
 * Web Crypto argument checks core's portable provider goes through; ids are minted
 * twice per envelope round trip, so the host uses this one.
 */
export const nodeRandomIdProvider: IdProvider = { nextId: () => randomUUID() };

/** The providers a host uses unless given others: Node's UUIDs, the system clock. */
export const nodeProviders: EnvelopeProviders = Object.freeze({ ids: nodeRandomIdProvider, clock: systemClock });
