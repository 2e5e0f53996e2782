export * from './strategy.js';
export * from './consecutive.js';
export * from './sliding-window.js';
export * from './snapshot.js';
export * from './state-store.js';
export * from './circuit-breaker.js';
