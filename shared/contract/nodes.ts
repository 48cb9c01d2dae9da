/**
 * The GPU nodes part of the contract (inventory, host-key trust, health, preflight). Spread into
 * the contract's tables by shared/contract.ts.
 */
export const nodesCalls = {} as const;

export const nodesEvents = {} as const;
