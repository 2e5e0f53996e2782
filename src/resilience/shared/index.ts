export * from './shared-state.js';
export * from './redis-breaker-state.js';
export * from './postgres-breaker-state.js';
