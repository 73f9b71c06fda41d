/**
 * @onex/spi: the service provider interfaces of the ONEX runtime host. Interfaces and
 * types only: @onex/infra implements them, @onex/core supplies the types they use.
 */
export type { ProtocolHandler, HandlerHealth, HandlerDescription } from './protocol-handler.js';
export type {
  ProtocolEventBus,
  BusMessage,
  InboundMessage,
  MessageSettlement,
  OutboundEnvelope,
  DeadLetterReason,
  BusSubscriber,
  BusSubscription,
  EventBusHealth,
  EventBusReadiness,
} from './protocol-event-bus.js';
export type { ProtocolHandlerSource, HandlerDescriptor, HandlerDescriptorSecurity } from './handler-source.js';
export type { ProtocolSecretResolver, ProtocolHandlerConfigResolver, SecretReference, SecretSource, SecretLookup, SecretReferenceLookup } from './resolvers.js';
export type { ProtocolIdempotencyStore, IdempotencyClaim, Awaitable } from './idempotency-store.js';
export type { HandlerInvocationContext, EnvelopeHandler } from '@onex/core';
