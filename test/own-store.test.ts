import { describe } from 'vitest';
import { memoryStore } from 'oncekey/memory';
import { runStoreConformance } from 'oncekey/testing';

// Replace memoryStore with your store; `clock` is the suite's fake clock, which the store must use.
describe('my store', () => {
  runStoreConformance('mine', { create: (clock) => memoryStore({ clock }) });
});
