/**
 * The results history part of the contract (stored runs and results, charts, comparisons, the
 * audit log). Spread into the contract's tables by shared/contract.ts.
 */
export const resultsCalls = {} as const;

export const resultsEvents = {} as const;
