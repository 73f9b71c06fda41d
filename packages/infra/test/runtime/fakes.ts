/**
 * Fakes for the runtime host tests: a protocol handler that records its lifecycle and
 * can be held mid-call, a handler source that hands those fakes out, an in-memory bus
 * that records what was actually published, and a cleanup list so no host, bus or
 * server outlives its test.
 */
import {
  createRequestEnvelope,
  type HandlerInvocationContext,
  type HandlerType,
  type JsonObject,
  type JsonValue,
  type OnexEnvelope,
  type RequestEnvelopeInit,
} from '@onex/core';
import { DeterministicIdGenerator, DeterministicClock } from '@onex/core/testing';
import type { BusMessage, MessageSettlement, HandlerDescriptor, HandlerHealth, ProtocolHandler, ProtocolHandlerSource } from '@onex/spi';
import { vi } from 'vitest';
import { InMemoryEventBus, type InMemoryEventBusOptions } from '../../src/event-bus/in-memory-event-bus.js';
import type { RuntimeHostProcessOptions, RuntimeHostSettings } from '../../src/runtime/runtime-host-process.js';

/** A promise with its resolve/reject on the outside. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = (value) => {
        this.settled = true;
        resolve(value);
      };
      this.reject = (reason) => {
        this.settled = true;
        reject(reason);
      };
    });
  }
}

/** Closed until `open()`; every `wait()` before that is held, every one after passes. */
export class Gate {
  readonly #opened = new Deferred();

  open(): void {
    this.#opened.resolve();
  }

  wait(): Promise<void> {
    return this.#opened.promise;
  }
}

/** Shared, ordered record of what happened (handler lifecycle and bus publishes). */
export type EventLog = string[];

export interface FakeHandlerOptions {
  readonly log?: EventLog;
  /** `initialize` waits for this gate before it finishes. */
  readonly initializeGate?: Gate;
  /** `initialize` rejects with this after (optionally) waiting. */
  readonly initializeError?: unknown;
  /** Every `execute` waits for this gate before it answers. */
  readonly executeGate?: Gate;
  /** The answer of `execute`; defaults to `{ handled_by, operation, echo: payload }`. */
  readonly behaviour?: (envelope: OnexEnvelope, context: HandlerInvocationContext) => Promise<JsonValue> | JsonValue;
}

/** A ProtocolHandler that records initialize/execute/shutdown and counts concurrent calls. */
export class FakeHandler implements ProtocolHandler {
  readonly handlerType: HandlerType;
  readonly initializeConfigs: JsonObject[] = [];
  shutdownCount = 0;
  readonly calls: Array<{ envelope: OnexEnvelope; context: HandlerInvocationContext }> = [];
  active = 0;
  maxActive = 0;
  readonly #options: FakeHandlerOptions;

  constructor(handlerType: HandlerType, options: FakeHandlerOptions = {}) {
    this.handlerType = handlerType;
    this.#options = options;
  }

  get initializeCount(): number {
    return this.initializeConfigs.length;
  }

  async initialize(config: JsonObject): Promise<void> {
    this.initializeConfigs.push(config);
    this.#options.log?.push(`initialize:${this.handlerType}`);
    await this.#options.initializeGate?.wait();
    if (this.#options.initializeError !== undefined) throw this.#options.initializeError;
  }

  async shutdown(): Promise<void> {
    this.shutdownCount += 1;
    this.#options.log?.push(`shutdown:${this.handlerType}`);
  }

  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    this.calls.push({ envelope, context });
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.#options.executeGate) await this.#options.executeGate.wait();
      if (this.#options.behaviour) return await this.#options.behaviour(envelope, context);
      return { handled_by: this.handlerType, operation: envelope.operation, echo: envelope.payload };
    } finally {
      this.active -= 1;
    }
  }

  async healthCheck(): Promise<HandlerHealth> {
    return { healthy: true, handler_type: this.handlerType, executed: this.calls.length };
  }

  describe() {
    return {
      handlerType: this.handlerType,
      supportedOperations: [`${this.handlerType}.fake`],
      requiredPayloadFields: {},
      responseShape: 'the payload echoed',
      version: '0.0.0-test',
    };
  }
}

/** A ProtocolHandlerSource whose descriptors build the given fakes (and count how often). */
export class FakeHandlerSource implements ProtocolHandlerSource {
  readonly sourceType = 'bootstrap' as const;
  readonly created: HandlerType[] = [];
  readonly #handlers: readonly FakeHandler[];

  constructor(handlers: readonly FakeHandler[]) {
    this.#handlers = handlers;
  }

  async discoverHandlers(): Promise<readonly HandlerDescriptor[]> {
    return this.#handlers.map((handler) => ({
      handlerName: `handler_${handler.handlerType}`,
      handlerVersion: '0.0.0-test',
      handlerType: handler.handlerType,
      category: 'effect',
      isAdapter: false,
      capabilities: [],
      commandsAccepted: [`${handler.handlerType}.fake`],
      factory: () => {
        this.created.push(handler.handlerType);
        return handler;
      },
    }));
  }
}

/** The in-memory bus, recording every message it accepted (after the publish succeeded). */
export class RecordingBus extends InMemoryEventBus {
  readonly published: BusMessage[] = [];
  shutdownCalls = 0;
  readonly #log: EventLog | undefined;

  constructor(options: InMemoryEventBusOptions & { log?: EventLog } = {}) {
    super(options);
    this.#log = options.log;
  }

  override async publish(message: BusMessage): Promise<void> {
    await super.publish(message);
    this.published.push(message);
    const value = message.value;
    const id = typeof value === 'object' && !(value instanceof Uint8Array) ? value.causationId ?? value.envelopeId : 'raw';
    this.#log?.push(`published:${message.topic}:${id}`);
  }

  override async shutdown(): Promise<void> {
    this.shutdownCalls += 1;
    return super.shutdown();
  }

  /** Envelopes accepted on `topic`, in order. */
  envelopesOn(topic: string): OnexEnvelope[] {
    return this.published
      .filter((m) => m.topic === topic)
      .map((m) => m.value)
      .filter((v): v is OnexEnvelope => typeof v === 'object' && !(v instanceof Uint8Array));
  }
}

/** The recording bus, declaring itself at-least-once like Kafka: every message is checked against the idempotency store. */
export class RedeliveringBus extends RecordingBus {
  override readonly redelivers = true;
}

/** Also keeps every settlement, to see what a dead letter would carry on any bus. */
export class SettlementRecordingBus extends RedeliveringBus {
  readonly settlements: MessageSettlement[] = [];
  override settleMessage(...args: Parameters<RecordingBus['settleMessage']>): Promise<void> {
    this.settlements.push(args[1]);
    return super.settleMessage(...args);
  }
}

export const INPUT_TOPIC = 'onex.test.runtime.cmd.v1';
export const OUTPUT_TOPIC = 'onex.test.runtime.evt.v1';

export function testSettings(overrides: Partial<RuntimeHostSettings> = {}): RuntimeHostSettings {
  return {
    name: 'test-host',
    version: '1.0.0',
    inputTopic: INPUT_TOPIC,
    outputTopic: OUTPUT_TOPIC,
    maxInFlight: 16,
    drainTimeoutMs: 10_000,
    handlers: [{ type: 'http', config: { timeoutMs: 1000 } }],
    ...overrides,
  };
}

/** Versions that satisfy their ranges, so unit tests do not depend on the manifests. */
export const COMPATIBLE_VERSION_FACTS: NonNullable<RuntimeHostProcessOptions['versionFacts']> = {
  versions: { core: '0.1.0', spi: '0.1.0', infra: '0.1.0' },
  requirements: [
    { package: '@onex/core', installed: '0.1.0', required: '^0.1.0' },
    { package: '@onex/spi', installed: '0.1.0', required: '^0.1.0' },
  ],
};

/** Request envelopes from their own id sequence, so they never collide with the host's ids. */
export function requestFactory(seed = 0x1000): (init: RequestEnvelopeInit) => OnexEnvelope {
  const providers = { ids: new DeterministicIdGenerator(seed), clock: new DeterministicClock('2023-06-01T12:00:00.000Z') };
  return (init) => createRequestEnvelope(init, providers);
}

/** The UUID DeterministicIdGenerator produces for counter value `n`. */
export function detId(n: number): string {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Subscribes to `topic` and collects every message (call before the bus starts consuming). */
export async function collect(bus: InMemoryEventBus, topic: string): Promise<BusMessage[]> {
  const received: BusMessage[] = [];
  await bus.subscribe(topic, async (message) => {
    received.push(message);
  });
  return received;
}

/** Envelope values of collected messages. */
export function envelopes(messages: readonly BusMessage[]): OnexEnvelope[] {
  return messages.map((m) => m.value).filter((v): v is OnexEnvelope => typeof v === 'object' && !(v instanceof Uint8Array));
}

/** Waits (without sleeping a fixed time) until `check` stops throwing. */
export function eventually(check: () => void, timeout = 5_000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 2 });
}

/** Lets every queued microtask and one round of macrotasks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** True once `promise` has settled (checked after letting pending work run). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

/** Things to close after each test, newest first. */
export class Cleanup {
  readonly #tasks: Array<() => Promise<unknown> | unknown> = [];

  add<T>(task: () => Promise<unknown> | unknown, value: T): T {
    this.#tasks.push(task);
    return value;
  }

  async run(): Promise<void> {
    const tasks = this.#tasks.splice(0).reverse();
    for (const task of tasks) await task();
  }
}
