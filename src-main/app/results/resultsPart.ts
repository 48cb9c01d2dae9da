import type { resultsCalls } from "../../../shared/contract/results.js";
import type { AppPart, AppPartContext } from "../appPart.js";

export type ResultsCallName = keyof typeof resultsCalls;

/** The results history as the app sees it: stored runs and results, charts, comparisons, audit log. */
export function createResultsPart(_context: AppPartContext): AppPart<ResultsCallName> {
  return { handlers: {}, close: async () => {} };
}
