export * from './handler-port.js';
export * from './intent.js';
export * from './node-instance.js';
export * from './nodes.js';
export * from './node-runtime.js';
export * from './node-factory.js';
