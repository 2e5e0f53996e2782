export * from './backoff.js';
export * from './constant.js';
export * from './exponential.js';
export * from './decorrelated.js';
export * from './iterable.js';
