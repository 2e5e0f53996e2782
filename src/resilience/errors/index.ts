export * from './broken-circuit.js';
export * from './isolated-circuit.js';
export * from './bulkhead-rejected.js';
export * from './deadline-exceeded.js';
