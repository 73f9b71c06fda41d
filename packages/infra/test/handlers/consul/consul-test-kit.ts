/** Shared helpers for the consul handler tests: envelopes, the agent's own HTTP API, fake agents. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInvocationContext, createRequestEnvelope, type CancellationSignal, type IoAccess, type JsonValue } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { ConsulHandler } from '../../../src/handlers/consul/index.js';
import { CONSUL_HTTP_ADDR } from '../../helpers/require-server.js';

export { rejection, memoryLogger } from '../db/db-test-kit.js';

const providers = deterministicProviders(1000);

/** Sends one request envelope through `handler`, as a node with its grant and signal (default read_write). */
export function send(
  handler: ConsulHandler,
  operation: string,
  payload: JsonValue,
  call: { access?: IoAccess; nodeSlug?: string; signal?: CancellationSignal } = {},
): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId: providers.ids.nextId() }, providers);
  return handler.execute(envelope, createInvocationContext(envelope, call));
}

const AGENT = `http://${CONSUL_HTTP_ADDR.replace(/^https?:\/\//, '')}`;

/** GET on the agent's own HTTP API (not through the handler): what Consul itself says. */
export async function agentGet(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${AGENT}${path}`);
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

/** PUT on the agent's HTTP API (cleanup). */
export async function agentPut(path: string, body?: string): Promise<void> {
  await fetch(`${AGENT}${path}`, { method: 'PUT', ...(body === undefined ? {} : { body }) });
}

/** A local HTTP server answering every request with `answer` (a fake agent for branches the real one cannot reach). */
export async function fakeAgent(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{
  address: string;
  requests: () => number;
  closedSockets: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  let closed = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    req.socket.once('close', () => (closed += 1));
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests: () => requests,
    closedSockets: () => closed,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
