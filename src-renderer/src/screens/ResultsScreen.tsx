import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import type { SeriesGroup } from "../../../shared/schemas/resultsViews.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { AuditSection } from "../components/results/AuditSection.js";
import { BrokenDbBanner, MovedAsideNotice } from "../components/results/BrokenDbBanner.js";
import { ExportButtons } from "../components/results/ExportButtons.js";
import { FlagsPanel } from "../components/results/FlagsPanel.js";
import { ImportForm } from "../components/results/ImportForm.js";
import { NodeBars } from "../components/results/NodeBars.js";
import {
  type FilterValues,
  filterArgs,
  NO_FILTERS,
  ResultsFilters,
} from "../components/results/ResultsFilters.js";
import { PAGE_SIZE, ResultsTable, type Sorting } from "../components/results/ResultsTable.js";
import { RunCompare } from "../components/results/RunCompare.js";
import { SeriesChart } from "../components/results/SeriesChart.js";
import {
  resultsKeys,
  useCurrentFlags,
  useNodeComparison,
  useResultsChangedSync,
  useResultsFacets,
  useResultsPage,
  useResultsRuns,
  useResultsStatus,
  useRunComparison,
  useSeries,
} from "../state/resultsQueries.js";

/** The results history: filters, a paged table, charts, comparisons, flags, import/export, audit log. */
export function ResultsScreen() {
  useResultsChangedSync();
  const queryClient = useQueryClient();
  const status = useResultsStatus();
  const ok = status.data?.ok === true;
  const [filters, setFilters] = useState<FilterValues>(NO_FILTERS);
  const [offset, setOffset] = useState(0);
  const [sorting, setSorting] = useState<Sorting>({ sort: "created_at", direction: "desc" });
  const [chartModel, setChartModel] = useState("");
  const [groupBy, setGroupBy] = useState<SeriesGroup>("node");
  const [nodeRun, setNodeRun] = useState("");
  const [runA, setRunA] = useState("");
  const [runB, setRunB] = useState("");
  const [movedTo, setMovedTo] = useState("");

  // the filters are selects and date pickers (discrete changes): no debounce, every choice counts
  const filter = useMemo(() => filterArgs(filters), [filters]);
  const facets = useResultsFacets(ok);
  const runs = useResultsRuns(ok);
  const page = useResultsPage({ ...filter, ...sorting, limit: PAGE_SIZE, offset }, ok);
  const models = facets.data?.models ?? [];
  // the chart follows the model filter; without one, the chosen (or first) model
  const shownModel = filters.model || (models.includes(chartModel) ? chartModel : (models[0] ?? ""));
  const series = useSeries(
    ok && shownModel
      ? {
          model: shownModel,
          groupBy,
          ...(filter.since ? { since: filter.since } : {}),
          ...(filter.until ? { until: filter.until } : {}),
        }
      : undefined,
  );
  const nodes = useNodeComparison(ok ? nodeRun : "");
  const comparison = useRunComparison(ok ? runA : "", ok ? runB : "");
  const flags = useCurrentFlags(ok);
  const runList = runs.data?.runs ?? [];

  useEffect(() => {
    if (nodeRun === "" && runList[0]) setNodeRun(runList[0].id);
  }, [nodeRun, runList]);

  if (status.isPending) {
    return (
      <div className="screen">
        <header className="screen-header">
          <h2>Results</h2>
        </header>
        <p className="muted">Opening the results history…</p>
      </div>
    );
  }
  return (
    <div className="screen results-screen">
      <header className="screen-header">
        <h2>Results</h2>
        <code className="muted" title="The results database">
          {status.data?.dbFile}
        </code>
        <div className="toolbar-spacer" />
        {ok ? <ExportButtons filter={filter} /> : null}
      </header>
      {status.error ? (
        <ErrorPanel title="The results history cannot be reached" error={status.error}>
          <button
            type="button"
            onClick={() => void queryClient.invalidateQueries({ queryKey: resultsKeys.all })}
          >
            Try again
          </button>
        </ErrorPanel>
      ) : null}
      {status.data && !status.data.ok ? <BrokenDbBanner status={status.data} onMoved={setMovedTo} /> : null}
      {movedTo && ok ? <MovedAsideNotice movedTo={movedTo} /> : null}
      <ImportForm />
      {ok && runList.length === 0 && !runs.isPending ? (
        <EmptyState title="No results stored yet.">
          <p>Import a perf.csv above, or run models: every run lands here.</p>
        </EmptyState>
      ) : null}
      {ok && runList.length > 0 ? (
        <>
          <ResultsFilters
            values={filters}
            facets={facets.data}
            onChange={(values) => {
              setFilters(values);
              setOffset(0);
            }}
          />
          <FlagsPanel data={flags.data} />
          <SeriesChart
            data={series.data}
            error={series.error}
            loading={series.isFetching}
            model={shownModel}
            models={models}
            groupBy={groupBy}
            onModel={(model) => {
              setChartModel(model);
              if (filters.model) setFilters({ ...filters, model });
            }}
            onGroupBy={setGroupBy}
          />
          <ResultsTable
            page={page.data}
            error={page.error}
            loading={page.isFetching}
            offset={offset}
            sorting={sorting}
            onSort={(next) => {
              setSorting(next);
              setOffset(0);
            }}
            onPage={setOffset}
          />
          <div className="results-columns">
            <NodeBars
              runs={runList}
              runId={nodeRun}
              onRun={setNodeRun}
              data={nodes.data}
              error={nodes.error}
            />
            <RunCompare
              runs={runList}
              runA={runA}
              runB={runB}
              onRuns={(a, b) => {
                setRunA(a);
                setRunB(b);
              }}
              data={comparison.data}
              error={comparison.error}
            />
          </div>
        </>
      ) : null}
      <AuditSection enabled={ok} />
    </div>
  );
}
