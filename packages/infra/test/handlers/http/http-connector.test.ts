/**
 * The http handler's undici connector on its own, against a loopback TCP server: the
 * DNS guard and the check of the connected peer each refuse without the handler's
 * URL pre-check in front of them.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { lookup } from 'node:dns/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import { AddressPolicy } from '../../../src/handlers/http/http-address-policy.js';
import { DestinationRefusedError, guardedConnector, guardedLookup } from '../../../src/handlers/http/http-connector.js';

let server: net.Server | undefined;
let received = 0;
let accepted = 0;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function listen(): Promise<number> {
  received = 0;
  accepted = 0;
  server = net.createServer((socket) => {
    accepted += 1;
    socket.on('data', (chunk) => (received += chunk.length));
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

function connect(policy: AddressPolicy, hostname: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    guardedConnector(policy, 2_000)({ hostname, protocol: 'http:', port: String(port) }, (error, socket) => {
      if (error !== null) reject(error);
      else resolve(socket as Socket);
    });
  });
}

describe('guardedConnector', () => {
  it('refuses the connected peer when the address is not allowed, before a byte is written', async () => {
    const port = await listen();
    // An IP literal skips DNS, so only the peer check stands between us and loopback.
    const error = await connect(new AddressPolicy(undefined), '127.0.0.1', port).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error).toMatchObject({ reason: 'address_not_allowed', addressClass: 'loopback' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toBe(0);
  });

  it('hands over the socket when the peer is allowed', async () => {
    const port = await listen();
    const socket = await connect(new AddressPolicy(['127.0.0.1']), '127.0.0.1', port);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    socket.destroy();
    expect(accepted).toBe(1);
  });
});

describe('guardedLookup', () => {
  function resolve(policy: AddressPolicy, hostname: string, all: boolean): Promise<unknown> {
    return new Promise((done, fail) => {
      guardedLookup(policy)(hostname, { all }, (error, address) => (error === null ? done(address) : fail(error)));
    });
  }

  it('fails the lookup when any answer is refused, so nothing connects', async () => {
    for (const all of [true, false]) {
      const error = await resolve(new AddressPolicy(undefined), 'localhost', all).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationRefusedError);
    }
  });

  it('answers in the shape net asked for when every address is allowed', async () => {
    const policy = new AddressPolicy(['localhost']);
    const expected = await lookup('localhost', { all: true });
    expect(await resolve(policy, 'localhost', true)).toEqual(expected);
    expect(await resolve(policy, 'localhost', false)).toBe(expected[0]?.address);
  });
});
