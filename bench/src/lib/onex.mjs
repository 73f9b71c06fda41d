/**
 * Builds a RuntimeHostProcess on an InMemoryEventBus the way an embedding application
 * would, plus a client that publishes request envelopes to the input topic and waits
 * for the matching response on the output topic (matched by causation_id).
 */
import { ComputeNode, EffectNode, createRequestEnvelope, parseEnvelope, serializeEnvelope } from '@onex/core';
import { HandlerBootstrapSource, InMemoryEventBus, RuntimeHostProcess } from '@onex/infra';

export const INPUT_TOPIC = 'onex.bench.echo.cmd.v1';
export const OUTPUT_TOPIC = 'onex.bench.echo.evt.v1';

/** The no-op COMPUTE node: returns its input (response payload `{ result: input }`). */
export const echoComputeNode = (slug = 'echo') => new ComputeNode({ slug, compute: (input) => input });

/** An EFFECT node whose only allowed operation is the dev handler's `local.echo`. */
export const echoEffectNode = (slug = 'echo-effect', operations = ['local.echo']) => new EffectNode({ slug, operations });

/**
 * An in-memory bus that carries what the host publishes as JSON text, the way a network
 * transport (Kafka) carries bytes: `publishEnvelope` serializes, and whoever consumes the
 * output topic has to parse the text back.
 */
class TextOutputBus extends InMemoryEventBus {
  /** @param {import('@onex/core').OnexEnvelope} envelope @param {string} topic */
  publishEnvelope(envelope, topic) {
    return this.publish({ topic, value: serializeEnvelope(envelope), key: envelope.correlationId });
  }
}

/**
 * `wire: true` builds the host on a bus that serializes its responses to JSON text;
 * its clients must then be `wire` clients too (they publish text and parse the replies).
 * `logger` goes to the host and its handler source (default: silent); `metrics` is the
 * host's `settings.metrics` (default: the host's own, metrics on, no process metrics).
 * @param {{ maxInFlight: number, wire?: boolean, nodes?: import('@onex/core').NodeInstance[], handlers?: { type: string, config: Record<string, unknown>, policies?: import('@onex/core').HandlerPolicies }[], maxQueueSize?: number, logger?: import('@onex/infra').Logger, metrics?: { enabled: boolean, defaultMetrics: boolean } }} options
 */
export async function startHost({ maxInFlight, wire = false, nodes = [echoComputeNode(), echoEffectNode()], handlers = [{ type: 'local', config: {} }], maxQueueSize, logger, metrics }) {
  const busOptions = maxQueueSize ? { maxQueueSize } : {};
  const bus = wire ? new TextOutputBus(busOptions) : new InMemoryEventBus(busOptions);
  const host = new RuntimeHostProcess({
    settings: {
      name: 'bench-host',
      version: '1.0.0',
      inputTopic: INPUT_TOPIC,
      outputTopic: OUTPUT_TOPIC,
      maxInFlight,
      drainTimeoutMs: 2_000,
      handlers: /** @type {any} */ (handlers),
      ...(metrics ? { metrics } : {}),
    },
    bus,
    nodes,
    handlerSource: new HandlerBootstrapSource({ includeDevHandlers: true, ...(logger ? { logger } : {}) }),
    ...(logger ? { logger } : {}),
  });

  /** @type {Map<string, (response: import('@onex/core').OnexEnvelope) => void>} */
  const waiting = new Map();
  let failures = 0;
  /** @type {unknown} */
  let firstFailure;
  await bus.subscribe(OUTPUT_TOPIC, async (message) => {
    // A text reply is parsed and validated like any envelope a client receives off the wire.
    const response = typeof message.value === 'string' ? parseEnvelope(message.value) : /** @type {import('@onex/core').OnexEnvelope} */ (message.value);
    if (response.success !== true) {
      failures += 1;
      firstFailure ??= response.error;
    }
    const id = response.causationId;
    const resolve = id === undefined ? undefined : waiting.get(id);
    if (resolve && id !== undefined) {
      waiting.delete(id);
      resolve(response);
    }
  });
  await host.start();

  /**
   * A request/response call through the bus. `wire: true` publishes the JSON text a
   * network transport would deliver, so the host parses and validates it (on a `wire`
   * host the reply comes back as text too, and is parsed by the subscriber above).
   * `ttlSeconds` gives every request envelope that deadline (counted from its timestamp).
   * @param {{ targetNode: string, operation: string, wire?: boolean, payload?: (i: number) => import('@onex/core').JsonValue, ttlSeconds?: number }} target
   * @returns {(i: number) => Promise<import('@onex/core').OnexEnvelope>}
   */
  const client = ({ targetNode, operation, wire = false, payload = (i) => ({ n: i }), ttlSeconds }) =>
    (i) => {
      const envelope = createRequestEnvelope({ operation, targetNode, payload: payload(i), ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
      const response = new Promise((resolve) => waiting.set(envelope.envelopeId, resolve));
      const published = wire
        ? bus.publish({ topic: INPUT_TOPIC, value: serializeEnvelope(envelope) })
        : bus.publishEnvelope(envelope, INPUT_TOPIC);
      return published.then(() => response);
    };

  return {
    host,
    bus,
    client,
    /** Throws when any response was an error envelope: a benchmark of failures measures nothing. */
    assertHealthy() {
      if (failures > 0) throw new Error(`${failures} error responses, first: ${JSON.stringify(firstFailure)}`);
    },
    stop: () => host.stop(),
  };
}
