export * from './validate-topic.js';
