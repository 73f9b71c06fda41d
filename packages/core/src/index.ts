/**
 * @onex/core: the pure heart of the ONEX runtime host. Envelopes, contracts, the
 * NodeRuntime router, node kinds, reducers and intents, and the typed errors. It does
 * no I/O: files, sockets, timers, environment and ids/time come in from the caller.
 */
export { isJsonValue, MAX_JSON_DEPTH, type JsonValue, type JsonObject } from './json.js';
export * from './enums/index.js';
export * from './errors/index.js';
export * from './envelope/index.js';
export * from './topics/index.js';
export * from './contracts/index.js';
export * from './runtime/index.js';
