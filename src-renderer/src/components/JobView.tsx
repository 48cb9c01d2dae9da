import { useMutation } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useState } from "react";
import type { JobItem, JobSummary } from "../../../shared/contract.js";
import { useAppState } from "../state/appState.js";
import { useLogFeed } from "../state/logFeeds.js";
import { useClient, useJob, useManifest, useResults } from "../state/queries.js";
import { downloadBlob } from "./download.js";
import { EmptyState, ErrorPanel } from "./ErrorPanel.js";
import { LogViewer } from "./LogViewer.js";
import { NodeRunGrid } from "./NodeRunGrid.js";
import { rovingKeyDown } from "./roving.js";

/** The log source of a run on GPU nodes with every node's output, node-coloured. */
const ALL_NODES_LOG = "all nodes";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return `${minutes} min ${rest} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Seconds a job has run (ticking while it runs). */
export function useElapsed(job: JobSummary | undefined): number | undefined {
  const [now, setNow] = useState(Date.now());
  const running = job?.state === "running";
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (!job) return undefined;
  const start = Date.parse(job.startedAt);
  const end = job.endedAt ? Date.parse(job.endedAt) : now;
  return Number.isNaN(start) ? undefined : Math.max(0, (end - start) / 1000);
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state.replace(/\s+/g, "-")}`}>{state}</span>;
}

function ItemsTable({ items, kind }: { items: JobItem[]; kind: "build" | "run" }) {
  if (items.length === 0) return <p className="muted">Planning…</p>;
  return (
    <table className="data-table items-table">
      <caption className="sr-only">{kind === "build" ? "Images" : "Models"} of this job</caption>
      <thead>
        <tr>
          <th scope="col">{kind === "build" ? "Image" : "Model"}</th>
          <th scope="col">State</th>
          <th scope="col">Detail</th>
          <th scope="col" className="num">
            Time
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={item.key} data-item={item.key}>
            <td>
              <code>{item.label}</code>
            </td>
            <td>
              <StateBadge state={item.state} />
            </td>
            <td className="detail">{item.detail ?? ""}</td>
            <td className="num">{item.durationSec === undefined ? "" : formatDuration(item.durationSec)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LogPanel({ job }: { job: JobSummary }) {
  const [chosen, setChosen] = useState<string>();
  const sources = job.logs;
  // until the user picks one: every node at once for a run on nodes, else the newest log (the
  // image or model being worked on)
  const source =
    sources.find((log) => log.source === chosen)?.source ??
    (job.nodes ? sources.find((log) => log.source === ALL_NODES_LOG)?.source : undefined) ??
    sources[sources.length - 1]?.source;
  if (!source) {
    return (
      <div className="log-panel">
        <EmptyState title="No log yet: the first one appears when an image starts building or a model starts running." />
      </div>
    );
  }
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => rovingKeyDown(event, "horizontal");
  return (
    <div className="log-panel">
      {sources.length > 1 ? (
        <div
          className="log-tabs"
          role="tablist"
          aria-label="Logs of this job"
          onKeyDown={onKeyDown}
          tabIndex={-1}
        >
          {sources.map((log) => (
            <button
              type="button"
              role="tab"
              key={log.source}
              aria-selected={log.source === source}
              tabIndex={log.source === source ? 0 : -1}
              onClick={() => setChosen(log.source)}
              onFocus={() => setChosen(log.source)}
              title={log.file}
            >
              {log.source}
            </button>
          ))}
        </div>
      ) : null}
      <JobLog key={`${job.id}/${source}`} job={job} source={source} />
    </div>
  );
}

function JobLog({ job, source }: { job: JobSummary; source: string }) {
  const feed = useLogFeed(job.id, source);
  const finished = job.state !== "running";
  // when the job ends, read any tail the events did not carry
  useEffect(() => {
    if (finished) feed.refresh();
  }, [finished, feed]);
  const status =
    feed.status === "error"
      ? `log unavailable: ${feed.error ?? ""}`
      : feed.status === "loading"
        ? "loading…"
        : finished || feed.status === "complete"
          ? "complete"
          : "live";
  const safeName = `${job.kind}-${source}`.replace(/[^\w.-]+/g, "_");
  return (
    <LogViewer
      store={feed.store}
      label={`${job.kind === "build" ? "Build" : "Run"} log of ${source}`}
      fileName={`${safeName}.log`}
      status={<span className={`feed-${feed.status}`}>{status}</span>}
      emptyText={finished ? "This log is empty." : "Waiting for output…"}
    />
  );
}

function ManifestPanel({ file }: { file: string }) {
  const manifest = useManifest(file);
  const { runWithManifest } = useAppState();
  if (manifest.isPending) return <p className="muted">Reading the manifest…</p>;
  if (manifest.error)
    return <ErrorPanel compact title="The manifest cannot be read" error={manifest.error} />;
  const data = manifest.data.manifest;
  const images = Object.entries(data.built_images);
  const download = () => {
    const name = file.split(/[\\/]/).pop() || "build_manifest.json";
    downloadBlob(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: "application/json" }), name);
  };
  return (
    <section className="manifest-panel" aria-label="Build manifest">
      <header className="panel-header">
        <h4>Manifest</h4>
        <code className="muted wrap">{file}</code>
        <span className="toolbar-spacer" />
        <button type="button" onClick={download}>
          Download manifest
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => runWithManifest(file)}
          disabled={images.length === 0}
        >
          Run this manifest…
        </button>
      </header>
      {images.length === 0 ? (
        <p className="muted">No image was built.</p>
      ) : (
        <table className="data-table manifest-table">
          <caption className="sr-only">Built images</caption>
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col">Dockerfile</th>
              <th scope="col">Registry image</th>
              <th scope="col" className="num">
                Build time
              </th>
            </tr>
          </thead>
          <tbody>
            {images.map(([name, info]) => (
              <tr key={name}>
                <td>
                  <code>{name}</code>
                </td>
                <td>
                  <code>{info.dockerfile}</code>
                </td>
                <td>
                  {info.registry_image ? (
                    <code>{info.registry_image}</code>
                  ) : (
                    <span className="muted">local only</span>
                  )}
                </td>
                <td className="num">{formatDuration(info.build_duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details className="manifest-json">
        <summary>Manifest JSON</summary>
        <pre>{JSON.stringify(data, null, 2)}</pre>
      </details>
    </section>
  );
}

function ResultsTable({ jobId, onNodes }: { jobId: string; onNodes: boolean }) {
  const results = useResults(jobId, true);
  if (results.isPending) return <p className="muted">Reading results…</p>;
  if (results.error) return <ErrorPanel compact title="Results cannot be read" error={results.error} />;
  const rows = results.data.rows;
  return (
    <section className="results-panel" aria-label="Results">
      <header className="panel-header">
        <h4>Results</h4>
        <span className="muted">
          {rows.filter((row) => row.status === "SUCCESS").length} of {rows.length} succeeded
        </span>
      </header>
      {rows.length === 0 ? (
        <p className="muted">No result rows were written (the run stopped before a model finished).</p>
      ) : (
        <table className="data-table results-table">
          <caption className="sr-only">perf.csv rows of this run</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              {onNodes ? <th scope="col">Node</th> : null}
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Performance
              </th>
              <th scope="col">Metric</th>
              <th scope="col" className="num">
                Test time
              </th>
              <th scope="col">Image</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows of one perf.csv never reorder
              <tr key={index} data-status={row.status}>
                <td>
                  <code>{row.model}</code>
                </td>
                {onNodes ? (
                  <td>
                    <code>{row.machine_name}</code>
                  </td>
                ) : null}
                <td>
                  <StateBadge state={row.status} />
                </td>
                <td className="num">{row.performance}</td>
                <td>{row.metric}</td>
                <td className="num">{row.test_duration}</td>
                <td>
                  <code>{row.docker_image}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One job: progress rows, manifest (build) or results (run) when done, and the live log. */
export function JobView({ jobId }: { jobId: string }) {
  const client = useClient();
  const job = useJob(jobId);
  const elapsed = useElapsed(job.data?.job);
  const cancel = useMutation({ mutationFn: () => client.call("jobs.cancel", { id: jobId }) });
  if (job.isPending) return <p className="muted">Loading the job…</p>;
  if (job.error) return <ErrorPanel title="This job cannot be shown" error={job.error} />;
  const { job: summary, items } = job.data;
  const running = summary.state === "running";
  return (
    <section
      className="job-view"
      aria-label={`${summary.kind} job ${summary.title}`}
      data-job-state={summary.state}
    >
      <header className="job-header">
        <h3 className="job-title">{summary.title}</h3>
        <StateBadge state={summary.state} />
        {summary.resumedAt ? (
          <span
            className="state state-resumed"
            title={`picked up again at ${new Date(summary.resumedAt).toLocaleString()} after the app restarted`}
          >
            resumed after restart
          </span>
        ) : null}
        <span className="muted">
          {elapsed === undefined ? "" : formatDuration(elapsed)}
          {summary.exitCode !== undefined && !running ? ` · exit ${summary.exitCode}` : ""}
        </span>
        <span className="toolbar-spacer" />
        {running ? (
          <button
            type="button"
            className="danger"
            onClick={() => cancel.mutate()}
            disabled={cancel.isPending}
          >
            {cancel.isPending ? "Cancelling…" : "Cancel"}
          </button>
        ) : null}
      </header>
      {cancel.error ? <ErrorPanel compact title="Cancel failed" error={cancel.error} /> : null}
      <p className="muted job-output">
        Output: <code className="wrap">{summary.outputDir}</code>
      </p>
      {summary.nodes ? (
        <>
          {items.some((item) => !item.node) ? (
            <ItemsTable items={items.filter((item) => !item.node)} kind="build" />
          ) : null}
          <NodeRunGrid job={summary} items={items} />
        </>
      ) : (
        <ItemsTable items={items} kind={summary.kind} />
      )}
      {summary.kind === "build" && !running && summary.manifestFile ? (
        <ManifestPanel file={summary.manifestFile} />
      ) : null}
      {summary.kind === "run" && !running ? (
        <ResultsTable jobId={summary.id} onNodes={summary.nodes !== undefined} />
      ) : null}
      <LogPanel job={summary} />
    </section>
  );
}
