/**
 * A running host with fake handlers and its real ingress on 127.0.0.1 (port 0), plus a raw
 * node:http client: the security tests send exactly the headers an attacker would.
 */
import http from 'node:http';
import type { OnexEnvelope } from '@onex/core';
import type { BusSubscriber, EventBusHealth, EventBusReadiness, ProtocolEventBus } from '@onex/spi';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { startIngressServer, type IngressOptions, type IngressServer } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess, type RuntimeHostSettings } from '../../src/runtime/runtime-host-process.js';
import type { Scheduler } from '../../src/runtime/scheduler.js';
import { COMPATIBLE_VERSION_FACTS, type Cleanup, FakeHandler, FakeHandlerSource, testSettings } from '../runtime/fakes.js';

export const ALICE = { client: 'alice', token: 'alice-token-5b1d0c6e9f' };
export const BOB = { client: 'bob', token: 'bob-token-0e7a44c2d1' };

/**
 * A network-like bus: the in-memory one behind an object that is not an InMemoryEventBus,
 * so the host serves ingress requests itself (the path it takes with Kafka).
 */
export class DirectPathBus implements ProtocolEventBus {
  readonly kind = 'test-network';
  readonly redelivers = true;
  readonly #inner = new InMemoryEventBus();
  publishEnvelope(envelope: OnexEnvelope, topic: string): Promise<void> {
    return this.#inner.publishEnvelope(envelope, topic);
  }
  subscribe(topic: string, subscriber: BusSubscriber) {
    return this.#inner.subscribe(topic, subscriber);
  }
  startConsuming(): Promise<void> {
    return this.#inner.startConsuming();
  }
  readiness(): EventBusReadiness {
    return this.#inner.readiness();
  }
  healthCheck(): Promise<EventBusHealth> {
    return this.#inner.healthCheck();
  }
  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

export interface ServeOptions {
  readonly handlers?: readonly FakeHandler[];
  readonly settings?: Partial<RuntimeHostSettings>;
  readonly ingress?: IngressOptions;
  readonly path?: 'bus' | 'direct';
  readonly scheduler?: Scheduler;
  readonly hostId?: string;
}

export async function serve(cleanup: Cleanup, options: ServeOptions = {}): Promise<{ host: RuntimeHostProcess; server: IngressServer; url: string; handler: FakeHandler }> {
  const handlers = options.handlers ?? [new FakeHandler('http')];
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: handlers.map((h) => ({ type: h.handlerType, config: {} })), drainTimeoutMs: 2_000, ...options.settings }),
    bus: options.path === 'direct' ? new DirectPathBus() : new InMemoryEventBus(),
    handlerSource: new FakeHandlerSource(handlers),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.hostId ? { hostId: options.hostId } : {}),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  const server = await startIngressServer(host, { port: 0, ...options.ingress });
  cleanup.add(() => server.close(), server);
  return { host, server, url: server.url, handler: handlers[0] as FakeHandler };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

/** One request over a fresh connection, with exactly the given headers. */
export function request(url: string, init: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const target = new URL(init.path ?? '/v1/envelopes', url);
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: init.method ?? 'POST', headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A JSON POST of `body` to /v1/envelopes, with `token` as bearer when given. */
export function postJson(url: string, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(url, {
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body: JSON.stringify(body),
  });
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
