/** WebSocket close codes the worker acts on. */
export const CloseCode = {
  normal: 1000,
  replaced: 4001,
  forbidden: 4003,
  /** Two machines hold the device's key; both are refused until the owner resolves it. */
  conflict: 4009,
  timeout: 4008,
  protocol: 4400,
  unauthenticated: 4401,
  revoked: 4403,
  /** The worker's protocol range misses the server's; the reason names the supported range. */
  protocolUnsupported: 4426,
} as const;
