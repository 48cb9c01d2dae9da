/**
 * Regression / improvement flags: a result more than 3 median absolute deviations from the median
 * of the last results of the same model on the same GPU architecture (else node) is flagged. Pure
 * functions; the queries that fetch the history live in resultsQueries.ts.
 */
import type { FlagInfo, ResultFlag } from "../../../shared/schemas/resultsViews.js";

/** How many earlier results form the history (the "last N"). */
export const DEFAULT_FLAG_WINDOW = 10;
/** Fewer earlier results than this: too little history to judge, no flag. */
export const MIN_FLAG_HISTORY = 5;
/** How many MADs from the median a result must be to be flagged. */
export const FLAG_THRESHOLD_MADS = 3;
/**
 * A perfectly flat history has a MAD of 0, which would flag any rounding noise; the MAD is floored
 * at this fraction of the median's size.
 */
export const MAD_FLOOR_FRACTION = 0.001;

/**
 * Whether a smaller value of `metric` is better. Rates ("samples/sec", "tokens_per_second") are
 * throughput, higher is better; otherwise a metric naming latency or a time unit ("ms", "sec",
 * "time", "duration") is lower-is-better.
 */
export function lowerIsBetter(metric: string): boolean {
  const text = metric.toLowerCase();
  if (/\/|\bper\b|_per_|-per-|\bper_|_per\b/.test(text)) return false;
  if (text.includes("latency") || text.includes("time") || text.includes("duration")) return true;
  const tokens = text.split(/[^a-z]+/).filter((token) => token !== "");
  return tokens.some((token) => ["ms", "sec", "secs", "second", "seconds", "s", "us", "ns"].includes(token));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The flag of `value` against `history` (earlier values, any order). */
export function flagAgainst(
  value: number | undefined,
  history: readonly number[],
  lowerBetter: boolean,
): FlagInfo {
  const none: FlagInfo = {
    flag: null,
    historySize: history.length,
    median: null,
    mad: null,
    deviations: null,
    lowerIsBetter: lowerBetter,
  };
  if (value === undefined || history.length < MIN_FLAG_HISTORY) return none;
  const center = median(history);
  const mad = median(history.map((each) => Math.abs(each - center)));
  const scale = Math.max(mad, Math.abs(center) * MAD_FLOOR_FRACTION, Number.MIN_VALUE);
  const deviations = (value - center) / scale;
  let flag: ResultFlag | null = null;
  if (Math.abs(deviations) > FLAG_THRESHOLD_MADS) {
    const higher = deviations > 0;
    flag = higher !== lowerBetter ? "improvement" : "regression";
  }
  return { ...none, median: center, mad, deviations, flag };
}
