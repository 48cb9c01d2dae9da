import { useId } from "react";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { formatDuration, StateBadge } from "../components/JobView.js";
import { useAppState } from "../state/appState.js";
import { useJobs } from "../state/queries.js";

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function durationOf(startedAt: string, endedAt: string | undefined): string {
  if (!endedAt) return "running";
  const seconds = (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
  return formatDuration(seconds);
}

/** The job a job screen shows: the one picked, else the newest of its kind. */
export function useShownJob(kind: "build" | "run"): string | undefined {
  const { buildJobId, runJobId } = useAppState();
  const jobs = useJobs();
  const picked = kind === "build" ? buildJobId : runJobId;
  if (picked) return picked;
  return newestFirst(jobs.data?.jobs ?? []).find((job) => job.kind === kind)?.id;
}

function newestFirst<T extends { startedAt: string }>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** A compact switcher between jobs of one kind. */
export function JobPicker({ kind }: { kind: "build" | "run" }) {
  const jobs = useJobs();
  const { showJob } = useAppState();
  const shown = useShownJob(kind);
  const id = useId();
  const ofKind = newestFirst(jobs.data?.jobs ?? []).filter((job) => job.kind === kind);
  if (ofKind.length === 0) return null;
  return (
    <div className="job-picker">
      <label htmlFor={id}>{kind === "build" ? "Build job" : "Run job"}</label>
      <select id={id} value={shown ?? ""} onChange={(event) => showJob(kind, event.target.value)}>
        {ofKind.map((job) => (
          <option key={job.id} value={job.id}>
            {formatTime(job.startedAt)} · {job.title} · {job.state}
          </option>
        ))}
      </select>
    </div>
  );
}

export function JobsScreen() {
  const jobs = useJobs();
  const { showJob, setScreen } = useAppState();
  if (jobs.isPending) {
    return (
      <div className="screen">
        <header className="screen-header">
          <h2>Jobs</h2>
        </header>
        <p className="muted">Loading jobs…</p>
      </div>
    );
  }
  const list = newestFirst(jobs.data?.jobs ?? []);
  return (
    <div className="screen jobs-screen">
      <header className="screen-header">
        <h2>Jobs</h2>
      </header>
      {jobs.error ? (
        <ErrorPanel title="Jobs cannot be listed" error={jobs.error}>
          <button type="button" onClick={() => void jobs.refetch()}>
            Try again
          </button>
        </ErrorPanel>
      ) : list.length === 0 ? (
        <EmptyState title="No jobs yet.">
          <button type="button" onClick={() => setScreen("models")}>
            Select models to build…
          </button>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="data-table jobs-table">
            <caption className="sr-only">Builds and runs of this session</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Output</th>
              </tr>
            </thead>
            <tbody>
              {list.map((job) => (
                <tr key={job.id} data-job={job.id}>
                  <td>
                    <button type="button" className="link-button" onClick={() => showJob(job.kind, job.id)}>
                      {job.title}
                    </button>
                  </td>
                  <td>{job.kind}</td>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>{formatTime(job.startedAt)}</td>
                  <td className="num">{durationOf(job.startedAt, job.endedAt)}</td>
                  <td>
                    <code className="wrap">{job.outputDir}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
