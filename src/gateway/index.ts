/**
 * `oncekey/gateway`: the reverse proxy behind `oncekey proxy`, for embedding in a program.
 */
export { createGateway } from './gateway.js';
export type { CloseResult, Gateway, GatewayAddresses } from './gateway.js';
export type { GatewayOptions } from './options.js';
export { GatewayMetrics } from './metrics.js';
