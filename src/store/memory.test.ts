import { runStoreConformance } from '../testing/conformance.js';
import { memoryStore } from './memory.js';

runStoreConformance('memory', { create: (clock) => memoryStore({ clock }) });
