import { useId } from "react";
import type { CallResult } from "../../../../shared/contract.js";
import { FlagBadge } from "./FlagBadge.js";
import { formatTime } from "./format.js";

/** The latest result of each model (per GPU architecture, else node) that is a regression or an improvement. */
export function FlagsPanel({ data }: { data: CallResult<"results.flags"> | undefined }) {
  const id = useId();
  const results = data?.results ?? [];
  return (
    <section className="panel flags-panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Regressions and improvements</h3>
      {results.length === 0 ? (
        <p className="muted">
          Nothing flagged: no latest result is more than 3 MADs from the median of its last 10 (with at least
          5).
        </p>
      ) : (
        <ul className="flag-list">
          {results.map((result) => (
            <li key={result.id} data-model={result.row.model}>
              <FlagBadge flag={result.flag} /> <strong>{result.row.model}</strong> on{" "}
              {result.row.gpu_architecture || result.where}: {result.row.performance} {result.row.metric}{" "}
              <span className="muted">
                (median {result.flag.median} · {formatTime(result.createdAt)})
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
