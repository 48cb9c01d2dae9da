import type { CallResult } from "../../../../shared/contract.js";
import type { SortColumn } from "../../../../shared/schemas/resultsViews.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { FlagBadge } from "./FlagBadge.js";
import { formatTime } from "./format.js";

export const PAGE_SIZE = 50;

export interface Sorting {
  sort: SortColumn;
  direction: "asc" | "desc";
}

const COLUMNS: { id: SortColumn | null; label: string; numeric?: boolean }[] = [
  { id: "created_at", label: "Recorded" },
  { id: "model", label: "Model" },
  { id: "node", label: "Node" },
  { id: "gpu_architecture", label: "GPU arch" },
  { id: "performance", label: "Performance", numeric: true },
  { id: null, label: "Metric" },
  { id: "status", label: "Status" },
  { id: null, label: "Flag" },
  { id: "run_id", label: "Run" },
];

/** One page of results (never all of them: the store answers pages), sortable by column. */
export function ResultsTable({
  page,
  error,
  loading,
  offset,
  sorting,
  onSort,
  onPage,
}: {
  page: CallResult<"results.query"> | undefined;
  error: unknown;
  loading: boolean;
  offset: number;
  sorting: Sorting;
  onSort(sorting: Sorting): void;
  onPage(offset: number): void;
}) {
  if (error) return <ErrorPanel title="Results cannot be read" error={error} compact />;
  const total = page?.total ?? 0;
  const last = Math.min(offset + PAGE_SIZE, total);
  return (
    <section className="panel results-table-panel" aria-label="Results" aria-busy={loading}>
      <div className="panel-header">
        <h3>Results</h3>
        <span className="muted results-count" aria-live="polite">
          {total === 0 ? "no results" : `${offset + 1}–${last} of ${total}`}
        </span>
        <div className="toolbar-spacer" />
        <nav className="pager" aria-label="Pages of results">
          <button
            type="button"
            disabled={offset === 0}
            onClick={() => onPage(Math.max(0, offset - PAGE_SIZE))}
          >
            Previous
          </button>
          <button type="button" disabled={last >= total} onClick={() => onPage(offset + PAGE_SIZE)}>
            Next
          </button>
        </nav>
      </div>
      <div className="table-scroll">
        <table className="data-table results-table">
          <caption className="sr-only">Stored results, one page</caption>
          <thead>
            <tr>
              {COLUMNS.map((column) => {
                const active = column.id !== null && column.id === sorting.sort;
                return (
                  <th
                    key={column.label}
                    scope="col"
                    className={column.numeric ? "num" : undefined}
                    aria-sort={
                      active ? (sorting.direction === "asc" ? "ascending" : "descending") : undefined
                    }
                  >
                    {column.id === null ? (
                      column.label
                    ) : (
                      <button
                        type="button"
                        className="link-button"
                        onClick={() =>
                          onSort({
                            sort: column.id!,
                            direction: active && sorting.direction === "desc" ? "asc" : "desc",
                          })
                        }
                      >
                        {column.label}
                        {active ? (sorting.direction === "asc" ? " ▲" : " ▼") : ""}
                      </button>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {(page?.results ?? []).map((result) => (
              <tr key={result.id} data-result={result.id} data-model={result.row.model}>
                <td>{formatTime(result.createdAt)}</td>
                <td>{result.row.model}</td>
                <td>{result.where}</td>
                <td>{result.row.gpu_architecture}</td>
                <td className="num">{result.row.performance}</td>
                <td>{result.row.metric}</td>
                <td>{result.row.status}</td>
                <td>
                  <FlagBadge flag={result.flag} />
                </td>
                <td>
                  <code>{result.runId}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
