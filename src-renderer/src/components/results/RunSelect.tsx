import { useId } from "react";
import type { CallResult } from "../../../../shared/contract.js";
import { formatTime } from "./format.js";

export function runLabel(run: CallResult<"results.runs">["runs"][number]): string {
  return `${formatTime(run.startedAt)} · ${run.source === "import" ? "import" : run.kind} · ${run.resultCount} result(s) · ${run.id}`;
}

export function RunSelect({
  label,
  runs,
  value,
  onChange,
}: {
  label: string;
  runs: CallResult<"results.runs">["runs"];
  value: string;
  onChange(runId: string): void;
}) {
  const id = useId();
  return (
    <div className="field inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Choose a run…</option>
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {runLabel(run)}
          </option>
        ))}
      </select>
    </div>
  );
}
