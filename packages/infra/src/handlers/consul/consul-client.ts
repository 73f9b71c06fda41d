/**
 * A narrow, typed face of the `consul` package: the calls the handler and the host's
 * service registration make, each with a per-call timeout and cancellation, and every
 * answer narrowed with zod (the package's own types are loose and partly wrong: `kv.get`
 * resolves `undefined` for a missing key, `kv.set` with a failed CAS `false` or
 * `undefined`).
 *
 * Cancellation: the package takes no AbortSignal, but its HTTP client (papi) aborts the
 * request when the `ctx` EventEmitter of a call emits `cancel`. An aborted signal emits
 * it, so the socket is closed at once; a write the agent already received may still apply.
 */
import { EventEmitter } from 'node:events';
import Consul from 'consul';
import type { SecretString } from '@onex/core';
import { z } from 'zod';
import type { ConsulAgentAddress } from './consul-config.js';

/** What one call may be cut short by. */
export interface ConsulCallOptions {
  readonly timeoutMs: number;
  readonly signal?: { readonly aborted: boolean; addEventListener(type: 'abort', l: () => void, o?: { once?: boolean }): void; removeEventListener(type: 'abort', l: () => void): void } | undefined;
}

/** A service to register on the agent (the package lower-cases option keys itself). */
export interface AgentServiceRegistration {
  readonly name: string;
  readonly id: string;
  readonly tags?: readonly string[] | undefined;
  readonly address?: string | undefined;
  readonly port?: number | undefined;
  readonly meta?: Readonly<Record<string, string>> | undefined;
  readonly check?:
    | { readonly http: string; readonly interval: string; readonly timeout?: string | undefined; readonly deregisterCriticalServiceAfter?: string | undefined }
    | { readonly ttl: string; readonly deregisterCriticalServiceAfter?: string | undefined }
    | undefined;
}

const kvItemSchema = z.object({ Value: z.string().nullable().optional(), ModifyIndex: z.number() });
const checkSchema = z.object({
  CheckID: z.string(),
  Name: z.string().default(''),
  Node: z.string().default(''),
  ServiceID: z.string().default(''),
  Status: z.string(),
  Output: z.string().default(''),
});
const healthEntrySchema = z.object({
  Node: z.object({ Node: z.string(), Address: z.string().default('') }),
  Service: z.object({
    ID: z.string(),
    Service: z.string(),
    Tags: z.array(z.string()).nullable().default([]),
    Address: z.string().default(''),
    Port: z.number().default(0),
    Meta: z.record(z.string(), z.string()).nullable().default({}),
  }),
  Checks: z.array(checkSchema).nullable().default([]),
});
export type ConsulHealthEntry = z.output<typeof healthEntrySchema>;
export type ConsulCheck = z.output<typeof checkSchema>;
const serviceListSchema = z.record(z.string(), z.array(z.string()).nullable());
const agentServicesSchema = z.record(z.string(), z.object({ ID: z.string(), Service: z.string() }));

/** Thrown when the agent answered something the handler cannot read (never its content). */
export class UnexpectedConsulAnswer extends Error {
  constructor(what: string) {
    super(`unexpected answer shape from ${what}`);
    this.name = 'UnexpectedConsulAnswer';
  }
}

function narrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UnexpectedConsulAnswer(what);
  return parsed.data;
}

/** Opens keep-alive connections to one agent; `close()` ends them. */
export class ConsulAgentClient {
  readonly #consul: Consul;

  constructor(address: ConsulAgentAddress, options: { readonly token?: SecretString | undefined; readonly datacenter?: string | undefined } = {}) {
    const defaults: { token?: string; dc?: string } = {};
    // The only place the token leaves its SecretString: the driver sends it as X-Consul-Token.
    if (options.token !== undefined) defaults.token = options.token.reveal();
    if (options.datacenter !== undefined) defaults.dc = options.datacenter;
    this.#consul = new Consul({ host: address.host, port: address.port, secure: address.secure, defaults });
  }

  /** `GET /v1/status/leader`: the leader's address, `""` while there is none. */
  async leader(call: ConsulCallOptions): Promise<string> {
    return narrow(z.string(), await this.#call(call, (o) => this.#consul.status.leader(o as object)), 'status.leader');
  }

  async registerService(service: AgentServiceRegistration, call: ConsulCallOptions): Promise<void> {
    const check = service.check === undefined
      ? undefined
      : 'http' in service.check
        ? dropUndefined({ http: service.check.http, interval: service.check.interval, timeout: service.check.timeout, deregistercriticalserviceafter: service.check.deregisterCriticalServiceAfter })
        : dropUndefined({ ttl: service.check.ttl, deregistercriticalserviceafter: service.check.deregisterCriticalServiceAfter });
    const options = dropUndefined({
      name: service.name,
      id: service.id,
      tags: service.tags === undefined ? undefined : [...service.tags],
      address: service.address,
      port: service.port,
      meta: service.meta === undefined ? undefined : { ...service.meta },
      check,
    });
    await this.#call(call, (o) => this.#consul.agent.service.register({ ...options, ...o } as never));
  }

  /** Removes a service from this agent. Consul answers 404 for an id it does not know. */
  async deregisterService(id: string, call: ConsulCallOptions): Promise<void> {
    await this.#call(call, (o) => this.#consul.agent.service.deregister({ id, ...o } as never));
  }

  /** The services registered on this agent, by id. */
  async agentServices(call: ConsulCallOptions): Promise<Record<string, { ID: string; Service: string }>> {
    return narrow(agentServicesSchema, await this.#call(call, (o) => this.#consul.agent.service.list(o as never)), 'agent.service.list');
  }

  /** `GET /v1/health/service/<name>`: instances with their node and checks. */
  async healthService(name: string, filter: { readonly tag?: string | undefined; readonly passing?: boolean | undefined }, call: ConsulCallOptions): Promise<ConsulHealthEntry[]> {
    const options = dropUndefined({ service: name, tag: filter.tag, passing: filter.passing === true ? true : undefined });
    return narrow(z.array(healthEntrySchema), await this.#call(call, (o) => this.#consul.health.service({ ...options, ...o } as never)), 'health.service');
  }

  /** `GET /v1/catalog/services`: service name → tags. */
  async catalogServices(call: ConsulCallOptions): Promise<Record<string, string[]>> {
    const list = narrow(serviceListSchema, await this.#call(call, (o) => this.#consul.catalog.service.list(o as never)), 'catalog.service.list');
    return Object.fromEntries(Object.entries(list).map(([name, tags]) => [name, tags ?? []]));
  }

  /** A key's value (decoded text) and modify index; `undefined` when the key does not exist. */
  async kvGet(key: string, call: ConsulCallOptions): Promise<{ value: string | null; modifyIndex: number } | undefined> {
    const raw = await this.#call(call, (o) => this.#consul.kv.get({ key, ...o } as never));
    if (raw === undefined || raw === null) return undefined;
    const item = narrow(kvItemSchema, raw, 'kv.get');
    return { value: item.Value ?? null, modifyIndex: item.ModifyIndex };
  }

  /** Writes a key; `false` when a `cas` did not match (the package resolves `false` or `undefined` then). */
  async kvSet(key: string, value: string, cas: number | undefined, call: ConsulCallOptions): Promise<boolean> {
    const options = dropUndefined({ key, value, cas });
    return (await this.#call(call, (o) => this.#consul.kv.set({ ...options, ...o } as never))) === true;
  }

  /** Deletes a key, or every key starting with it (`recurse`). Consul answers true even for a missing key. */
  async kvDelete(key: string, recurse: boolean, call: ConsulCallOptions): Promise<boolean> {
    const options = recurse ? { key, recurse: true } : { key };
    return (await this.#call(call, (o) => this.#consul.kv.del({ ...options, ...o } as never))) === true;
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.#consul.destroy();
  }

  /**
   * Runs one driver call with the per-call timeout (papi aborts the request when it
   * passes) and the caller's signal (a `cancel` on the call's ctx aborts it too).
   */
  async #call<T>(call: ConsulCallOptions, run: (options: { timeout: number; ctx?: EventEmitter }) => Promise<T>): Promise<T> {
    const signal = call.signal;
    if (signal === undefined) return run({ timeout: call.timeoutMs });
    const ctx = new EventEmitter();
    const cancel = (): void => {
      ctx.emit('cancel');
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await run({ timeout: call.timeoutMs, ctx });
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}

/** The object without its `undefined` values (the package would send them as keys). */
function dropUndefined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** Whether a failure is the agent's 404 (deregistering an unknown id). */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const response = (error as { response?: { statusCode?: unknown } }).response;
  return (error as { isResponse?: unknown }).isResponse === true && response?.statusCode === 404;
}
