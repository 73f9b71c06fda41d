export * from './node-kind.js';
export * from './handler-type.js';
export * from './handler-category.js';
export * from './message-category.js';
export * from './transport-type.js';
export * from './handler-source-type.js';
