/**
 * The undici connector of the http handler: the place where the address policy meets
 * the address actually used. A pre-check of the URL host alone would miss DNS answers
 * (`localhost`, a name pointing at 169.254.169.254) and DNS rebinding (a name that
 * resolves publicly for the pre-check and privately for the connect), so:
 *
 * 1. every address DNS returns is vetted inside `lookup`, before any connection attempt;
 * 2. the connected socket's `remoteAddress` is vetted again before undici writes the
 *    request (IP-literal hosts skip `lookup`, and this catches anything that bypassed it).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import type { AddressClass, AddressPolicy, Refusal, RefusalReason } from './http-address-policy.js';

/**
 * The policy refused a destination. Internal: the error funnel turns it into the same
 * INFRA_CONNECTION_ERROR as a refused or reset connection, so a caller cannot tell a
 * blocked address from a closed port.
 */
export class DestinationRefusedError extends Error {
  readonly code = 'ONEX_DESTINATION_REFUSED';
  readonly reason: RefusalReason;
  readonly addressClass: AddressClass | undefined;

  constructor(refusal: Refusal) {
    super(`destination refused: ${refusal.reason}`);
    this.name = 'DestinationRefusedError';
    this.reason = refusal.reason;
    this.addressClass = refusal.addressClass;
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `net.connect` lookup that resolves as usual and fails if any answer is refused. */
export function guardedLookup(policy: AddressPolicy): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) {
        callback(error, '');
        return;
      }
      // Every answer, not just the first: net may try them all (happy eyeballs).
      for (const { address } of addresses) {
        const refusal = policy.checkAddress(hostname, address);
        if (refusal !== undefined) {
          callback(new DestinationRefusedError(refusal), '');
          return;
        }
      }
      if (options.all === true) callback(null, addresses);
      else {
        const first = addresses[0];
        if (first === undefined) callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
        else callback(null, first.address, first.family);
      }
    });
  };
}

/** The Agent's connector: undici's own, with the lookup guard and a check of the connected peer. */
export function guardedConnector(policy: AddressPolicy, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: guardedLookup(policy) });
  return (options, callback) => {
    connect(options, (error, socket) => {
      if (error !== null) {
        callback(error, null);
        return;
      }
      const refusal = peerRefusal(policy, options.hostname, socket);
      if (refusal === undefined) {
        callback(null, socket);
        return;
      }
      socket.destroy();
      callback(new DestinationRefusedError(refusal), null);
    });
  };
}

function peerRefusal(policy: AddressPolicy, hostname: string, socket: Socket): Refusal | undefined {
  const address = socket.remoteAddress;
  // A connected TCP socket always knows its peer; if it does not, do not guess.
  if (address === undefined) return { reason: 'address_not_allowed' };
  return policy.checkAddress(hostname, address);
}
