import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopeValidationError, createInvalidEnvelopeResponse, serializeEnvelope, type EnvelopeProviders } from '@onex/core';
import { nodeProviders } from './node-providers.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import type { RuntimeHostProcess } from './runtime-host-process.js';

export interface IngressOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 picks a free port. @default 8085 */
  readonly port?: number;
  /** How long `POST /v1/envelopes` waits for the response. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Largest accepted request body. @default 1048576 */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
  readonly providers?: EnvelopeProviders;
}

export interface IngressServer {
  /** `http://host:port` once listening. */
  readonly url: string;
  close(): Promise<void>;
}

const STATUS_BY_RESULT = { ok: 200, invalid: 400, timeout: 504, unavailable: 503 } as const;

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The host's one small HTTP server: how people and tests reach an in-memory host.
 *
 * - `POST /v1/envelopes`: an envelope (or a plain request object) in, its response
 *   envelope out (200; 400 invalid, 503 not running, 504 no response in time).
 * - `GET /health/live`, `GET /health/ready` (200 only while running and the bus is ready),
 *   `GET /health/handlers` (handlers plus a `bus` section).
 */
export async function startIngressServer(host: RuntimeHostProcess, options: IngressOptions = {}): Promise<IngressServer> {
  const logger = options.logger ?? silentLogger;
  const providers = options.providers ?? nodeProviders;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const maxBody = options.maxBodyBytes ?? 1_048_576;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method ?? 'GET'} ${path}`;
    if (route === 'POST /v1/envelopes') {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) tooLarge = true;
        else chunks.push(chunk);
      });
      req.on('end', () => {
        if (tooLarge) {
          const error = new EnvelopeValidationError(`Request body exceeds ${maxBody} bytes`, { hint: 'Send smaller envelopes; large data belongs in a store, referenced from the payload.' });
          sendJson(res, 413, serializeEnvelope(createInvalidEnvelopeResponse({}, error, providers)));
          return;
        }
        host
          .submit(Buffer.concat(chunks).toString('utf8'), timeoutMs)
          .then(({ status, envelope }) => sendJson(res, STATUS_BY_RESULT[status], serializeEnvelope(envelope)))
          .catch((error: unknown) => {
            logger.error({ err: error }, 'ingress submit failed');
            sendJson(res, 500, JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'ingress failed; see host logs' } }));
          });
      });
      return;
    }
    if (route === 'GET /health/live') {
      const h = host.health();
      sendJson(res, h.live ? 200 : 503, JSON.stringify({ status: h.live ? 'alive' : 'dead', state: h.state }));
      return;
    }
    if (route === 'GET /health/ready') {
      const h = host.health();
      sendJson(res, h.ready ? 200 : 503, JSON.stringify({ status: h.ready ? 'ready' : 'not_ready', ...h }));
      return;
    }
    if (route === 'GET /health/handlers') {
      Promise.all([host.handlerHealth(), host.bus.healthCheck()])
        .then(([handlers, bus]) => {
          const healthy = host.health().ready && handlers.every((h) => h.healthy);
          // The bus section: for Kafka the group, assigned partitions, lag and paused state.
          sendJson(res, healthy ? 200 : 503, JSON.stringify({ state: host.health().state, handlers, bus }));
        })
        .catch(() => sendJson(res, 500, JSON.stringify({ handlers: [] })));
      return;
    }
    sendJson(res, 404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `No route ${route}`, hint: 'Routes: POST /v1/envelopes, GET /health/live, /health/ready, /health/handlers' } }));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8085, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
