import type { FlagInfo } from "../../../../shared/schemas/resultsViews.js";
import { formatNumber } from "./format.js";

/** "regression" / "improvement" badge, with the history it was judged against as its title. */
export function FlagBadge({ flag }: { flag: FlagInfo | { flag: FlagInfo["flag"] } }) {
  if (!flag.flag) return null;
  const detail =
    "median" in flag && flag.median !== null
      ? `${formatNumber(flag.deviations)} MADs from the median ${formatNumber(flag.median)} of the last ${flag.historySize} results (${flag.lowerIsBetter ? "lower" : "higher"} is better)`
      : flag.flag;
  return (
    <span className={`flag-badge flag-${flag.flag}`} title={detail} data-flag={flag.flag}>
      {flag.flag === "regression" ? "▼ regression" : "▲ improvement"}
    </span>
  );
}
