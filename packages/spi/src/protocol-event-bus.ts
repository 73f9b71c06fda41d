import type { JsonObject, OnexEnvelope } from '@onex/core';

/**
 * A message as a bus delivers it. `value` is an envelope object when the publisher
 * handed the bus one (in-memory), or the raw text/bytes from the wire (Kafka), which
 * the runtime host parses — so a malformed message is answered, not dropped.
 */
export interface BusMessage {
  readonly topic: string;
  readonly value: OnexEnvelope | string | Uint8Array;
  /** Partition key, where the bus has one (the correlation id by default). */
  readonly key?: string | undefined;
}

/**
 * Receives one message. The bus waits for the returned promise before delivering
 * the next message of the subscription, so a subscriber applies backpressure simply by
 * not resolving until it can take more.
 */
export type BusSubscriber = (message: BusMessage) => Promise<void>;

export interface BusSubscription {
  readonly topic: string;
  /** Stops delivery to this subscriber. Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface EventBusHealth {
  readonly healthy: boolean;
  readonly kind: string;
  readonly [detail: string]: JsonObject[string];
}

/**
 * Transport for envelopes between runtimes (in-memory, Kafka). Unlike a handler, a
 * bus is not called by nodes: the runtime host consumes its input topic and publishes
 * responses to its output topic.
 *
 * Ordering: FIFO per topic (per partition for Kafka); no global order.
 */
export interface ProtocolEventBus {
  readonly kind: string;
  /**
   * Publishes an envelope to `topic`. Resolves once the bus accepted it; waits (rather
   * than growing memory) when the topic is full. Never modifies the envelope.
   */
  publishEnvelope(envelope: OnexEnvelope, topic: string): Promise<void>;
  /** Registers a subscriber; delivery starts with `startConsuming()`. */
  subscribe(topic: string, subscriber: BusSubscriber): Promise<BusSubscription>;
  /** Starts delivering messages to the subscribers. */
  startConsuming(): Promise<void>;
  healthCheck(): Promise<EventBusHealth>;
  /** Stops delivery and releases resources. Idempotent. */
  shutdown(): Promise<void>;
}
