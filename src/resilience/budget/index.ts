export * from './budget.js';
export * from './token-bucket.js';
export * from './percentage.js';
