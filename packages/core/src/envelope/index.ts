export * from './providers.js';
export * from './envelope-schema.js';
export * from './envelope.js';
export * from './envelope-factory.js';
