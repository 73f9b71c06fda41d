/**
 * One HTTP exchange over the handler's undici Agent, driven through `dispatch` with a
 * small handler instead of `request()`: the body is collected straight from the parser
 * callbacks (no Readable stream per response) and one timer bounds the whole exchange.
 * The size limit is enforced as the body arrives. The caller's cancellation signal, when
 * there is one, aborts the exchange for real (undici drops the connection); its listener
 * lives exactly as long as the exchange.
 */
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { CancellationSignal } from '@onex/core';
import type { Dispatcher } from 'undici';
import { cancelledError, responseTooLargeError, type HttpCallContext } from './http-errors.js';
import { flattenHeaders, toResponsePayload, type HttpResponsePayload } from './http-response.js';

/** What the handler sends: the dispatcher options it needs, nothing else. */
export interface HttpExchangeRequest {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Aborted when the caller gives up; the exchange then stops and rejects. */
  readonly signal?: CancellationSignal | undefined;
}

export class HttpExchange implements Dispatcher.DispatchHandler {
  readonly #ctx: HttpCallContext;
  #resolve: (payload: HttpResponsePayload) => void = () => undefined;
  #reject: (error: unknown) => void = () => undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  /** Why the handler gave up before undici handed over a controller; applied as soon as it does. */
  #abortReason: Error | undefined;
  #statusCode = 0;
  #headers: { [name: string]: string } = {};
  /** HEAD, 204 and 304 carry no body. */
  #noBody = false;
  #chunks: Buffer[] = [];
  #received = 0;
  #timedOut = false;
  #signal: CancellationSignal | undefined;

  constructor(ctx: HttpCallContext) {
    this.#ctx = ctx;
  }

  /** True once the overall deadline fired; the exchange then failed because of it. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /**
   * Sends the request and resolves to the wire payload once the whole body is in.
   * Rejects with undici's error, a response-too-large error, the caller's cancellation
   * (see `cancelledError`), or (see `timedOut`) the deadline.
   */
  send(dispatcher: Dispatcher, request: HttpExchangeRequest): Promise<HttpResponsePayload> {
    return new Promise<HttpResponsePayload>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const { timeoutMs, method } = this.#ctx;
      const signal = request.signal;
      if (signal !== undefined) {
        // Already cancelled: not a byte goes out.
        if (signal.aborted) {
          this.#settled = true;
          reject(cancelledError(this.#ctx, signal.reason));
          return;
        }
        this.#signal = signal;
        signal.addEventListener('abort', this.#onCancel, { once: true });
      }
      // One deadline for the whole exchange, body included; undici's own timers only bound each phase.
      this.#timer = setTimeout(this.#onDeadline, timeoutMs);
      try {
        // undici reports a bad request through onResponseError rather than by throwing.
        dispatcher.dispatch(
          {
            origin: request.origin,
            path: request.path,
            method,
            headers: request.headers,
            body: request.body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          this,
        );
      } catch (error) {
        this.#fail(error);
      }
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx informational responses come before the real one.
    if (this.#settled || statusCode < 200) return;
    this.#statusCode = statusCode;
    this.#headers = flattenHeaders(headers);
    if (this.#ctx.method === 'HEAD' || statusCode === 204 || statusCode === 304) {
      this.#noBody = true;
      return;
    }
    const announced = this.#headers['content-length'];
    const contentLength = announced === undefined ? undefined : Number(announced);
    if (contentLength !== undefined && Number.isFinite(contentLength) && contentLength > this.#ctx.maxResponseBytes) {
      this.#abort(responseTooLargeError(this.#ctx, { contentLength }), controller);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled || this.#noBody) return;
    this.#received += chunk.length;
    if (this.#received > this.#ctx.maxResponseBytes) {
      // Stop reading (and drop the connection) as soon as the running total crosses the limit.
      const announced = this.#headers['content-length'];
      const contentLength = announced === undefined ? undefined : Number(announced);
      this.#abort(
        responseTooLargeError(this.#ctx, {
          receivedBytes: this.#received,
          ...(contentLength !== undefined && Number.isFinite(contentLength) ? { contentLength } : {}),
        }),
        controller,
      );
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settle();
    try {
      const chunks = this.#chunks;
      const bytes = this.#noBody ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#received);
      this.#chunks = [];
      this.#resolve(toResponsePayload(this.#statusCode, this.#headers, bytes));
    } catch (error) {
      this.#reject(error);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#fail(error);
  }

  readonly #onDeadline = (): void => {
    if (this.#settled) return;
    this.#timedOut = true;
    this.#abort(new Error(`no complete response within ${this.#ctx.timeoutMs} ms`), this.#controller);
  };

  readonly #onCancel = (): void => {
    if (this.#settled) return;
    this.#abort(cancelledError(this.#ctx, this.#signal?.reason), this.#controller);
  };

  /** Fails the exchange with `error` and tells undici to drop the request and its connection. */
  #abort(error: Error, controller: Dispatcher.DispatchController | undefined): void {
    this.#fail(error);
    this.#abortReason = error;
    // Re-enters onResponseError, which ignores it: the exchange has already settled.
    if (controller !== undefined && !controller.aborted) controller.abort(error);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#chunks = [];
    this.#reject(error);
  }

  #settle(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onCancel);
    this.#signal = undefined;
  }
}
