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
  /** Transport headers as text (Kafka record headers), when the transport has them. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Where the message sits in a partitioned log (Kafka), for logs and dead-letter records. */
  readonly position?: { readonly partition: number; readonly offset: string } | undefined;
}

/** An envelope a settlement publishes. */
export interface OutboundEnvelope {
  readonly topic: string;
  readonly envelope: OnexEnvelope;
}

/** Why a message is dead-lettered: what a person needs to decide what to do with it. */
export interface DeadLetterReason {
  /** An `OnexErrorCode` (or `EXECUTION_INTERRUPTED`). */
  readonly code: string;
  readonly message: string;
  /** How many times processing was attempted. */
  readonly attempts: number;
  /** The correlation id of the error envelope that answered the message, so the dead letter links to it. */
  readonly correlationId?: string;
}

/**
 * How a subscriber finished a message. The bus makes the outputs durable (for Kafka:
 * acknowledged by the broker, or written in one transaction with the input offset)
 * before it counts the message as finished; only then may its position be committed.
 */
export type MessageSettlement =
  /** Processed: publish `outputs` (its response), then the message is finished. */
  | { readonly kind: 'processed'; readonly outputs: readonly OutboundEnvelope[] }
  /**
   * Cannot be processed (unparseable, invalid, a non-retryable failure, or still failing
   * after its retries): publish `outputs` (its error envelope) and a dead-letter record
   * with the original bytes, then the message is finished.
   */
  | { readonly kind: 'dead_letter'; readonly outputs: readonly OutboundEnvelope[]; readonly reason: DeadLetterReason };

/** A delivered message, with the handle that finishes it. */
export interface InboundMessage extends BusMessage {
  /**
   * Finishes the message. Call at most once. Resolves when the outputs are durable and the
   * message counts as done; rejects when the bus is shutting down before they could be
   * made durable (the message then stays unfinished and is delivered again later, to this
   * host or another). A message never settled is never committed: it is redelivered.
   */
  settle(settlement: MessageSettlement): Promise<void>;
}

/**
 * Receives one message. Its promise means "accepted, send the next": the bus waits for it
 * before delivering another message, so a subscriber applies backpressure by not
 * resolving until it can take more. Finishing is separate: see `InboundMessage.settle`.
 */
export type BusSubscriber = (message: InboundMessage) => Promise<void>;

export interface BusSubscription {
  readonly topic: string;
  /**
   * Stops delivery to this subscriber. Messages already delivered may still be settled;
   * messages not yet delivered go back to the transport (redelivered later). Idempotent.
   */
  unsubscribe(): Promise<void>;
}

export interface EventBusHealth {
  readonly healthy: boolean;
  readonly kind: string;
  readonly [detail: string]: JsonObject[string];
}

/** Whether the bus can take work now, and if not, why (for `/health/ready`). */
export interface EventBusReadiness {
  readonly ready: boolean;
  readonly reason?: string | undefined;
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
   * Whether a message may be delivered more than once (an at-least-once transport such as
   * Kafka). The host then checks every message against its idempotency store; a bus that
   * never redelivers (in-memory) spares it that. Absent means true: the safe assumption.
   */
  readonly redelivers?: boolean;
  /**
   * Whether the bus itself bounds how many delivered messages may be unsettled (it stops
   * delivering at its limit, as Kafka's `max_inflight_envelopes` does). A subscriber may
   * then free its own capacity once it has settled a message, without waiting for the
   * outputs to be durable. Absent means false: the subscriber holds its capacity until the
   * settlement resolves, which is how publish backpressure reaches it.
   */
  readonly boundsUnsettled?: boolean;
  /**
   * Publishes an envelope to `topic`. Resolves once the bus accepted it (Kafka: the broker
   * acknowledged it); waits (rather than growing memory) when the topic is full. Never
   * modifies the envelope.
   */
  publishEnvelope(envelope: OnexEnvelope, topic: string): Promise<void>;
  /** Registers a subscriber; delivery starts with `startConsuming()`. */
  subscribe(topic: string, subscriber: BusSubscriber): Promise<BusSubscription>;
  /** Starts delivering messages to the subscribers. */
  startConsuming(): Promise<void>;
  /** Cheap and synchronous: read by `/health/ready` on every probe. */
  readiness(): EventBusReadiness;
  healthCheck(): Promise<EventBusHealth>;
  /**
   * Stops delivery and releases resources. Finished messages are committed first; those
   * never settled are left for redelivery and counted in the log. Idempotent.
   */
  shutdown(): Promise<void>;
}
