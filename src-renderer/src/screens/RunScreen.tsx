import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useState } from "react";
import { ContextFields, useContextForm } from "../components/ContextFields.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { JobView } from "../components/JobView.js";
import { type RunTarget, RunTargetFields } from "../components/RunTargetFields.js";
import { useAppState } from "../state/appState.js";
import { rememberJob, useClient, useEngineStatus, useJobs } from "../state/queries.js";
import { useSelectedNames } from "./BuildScreen.js";
import { JobPicker, useShownJob } from "./JobsScreen.js";

export function RunScreen() {
  const client = useClient();
  const queryClient = useQueryClient();
  const {
    madRoot,
    runManifest,
    showJob,
    setScreen,
    runSource: source,
    setRunSource: setSource,
  } = useAppState();
  const status = useEngineStatus();
  const jobs = useJobs();
  const names = useSelectedNames();
  const manifests = [
    ...new Set(
      (jobs.data?.jobs ?? [])
        .filter((job) => job.kind === "build" && job.manifestFile)
        .map((job) => job.manifestFile!),
    ),
  ];
  const [manifestFile, setManifestFile] = useState(runManifest ?? manifests[0] ?? "");
  const [timeout, setTimeoutText] = useState("");
  const [keepAlive, setKeepAlive] = useState(false);
  const [target, setTarget] = useState<RunTarget>({
    where: "local",
    nodes: new Set(),
    strategy: "replicate",
  });
  const onNodes = target.where === "nodes";
  const form = useContextForm({ gpuVendor: "", guestOs: "", extra: "{}" });
  const jobId = useShownJob("run");
  const ids = {
    manifest: useId(),
    selection: useId(),
    file: useId(),
    list: useId(),
    timeout: useId(),
    keep: useId(),
  };

  // a manifest handed over from a finished build (or the first one known) fills the field
  useEffect(() => {
    if (runManifest) setManifestFile(runManifest);
  }, [runManifest]);
  useEffect(() => {
    if (manifestFile === "" && manifests[0]) setManifestFile(manifests[0]);
  }, [manifestFile, manifests[0]]);

  const fromSelection = source === "selection";
  const timeoutValue = timeout.trim() === "" ? undefined : Number(timeout);
  const timeoutValid = timeoutValue === undefined || (Number.isInteger(timeoutValue) && timeoutValue >= 0);
  const targetChosen = !fromSelection || (form.state.gpuVendor !== "" && form.state.guestOs !== "");
  const contextJson = form.json;
  const contextIsEmpty = contextJson === "{}";

  const start = useMutation({
    mutationFn: () =>
      client.call("run.start", {
        ...(madRoot === "" ? {} : { madRoot }),
        ...(fromSelection ? { tags: names } : { manifestFile: manifestFile.trim() }),
        ...(contextJson !== undefined && !contextIsEmpty ? { context: contextJson } : {}),
        ...(timeoutValue === undefined ? {} : { timeoutSec: timeoutValue }),
        ...(keepAlive ? { keepAlive: true } : {}),
        ...(onNodes ? { nodes: [...target.nodes], strategy: target.strategy } : {}),
      }),
    onSuccess: ({ job }) => {
      rememberJob(queryClient, job);
      showJob("run", job.id);
    },
  });

  const ready =
    (fromSelection ? names.length > 0 : manifestFile.trim() !== "") &&
    form.valid &&
    timeoutValid &&
    targetChosen &&
    (!onNodes || target.nodes.size > 0) &&
    !start.isPending;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) start.mutate();
  };

  return (
    <div className="screen job-screen">
      <header className="screen-header">
        <h2>Run</h2>
        <JobPicker kind="run" />
      </header>
      <div className="job-layout">
        <form className="panel job-form" onSubmit={submit} aria-label="Start a run">
          <fieldset>
            <legend>What to run</legend>
            <div className="field checkbox">
              <input
                id={ids.manifest}
                type="radio"
                name="source"
                value="manifest"
                checked={source === "manifest"}
                onChange={() => setSource("manifest")}
              />
              <label htmlFor={ids.manifest}>A build manifest</label>
            </div>
            <div className="field indent">
              <label htmlFor={ids.file} className="sr-only">
                Manifest file
              </label>
              <input
                id={ids.file}
                name="manifestFile"
                list={ids.list}
                value={manifestFile}
                onChange={(event) => {
                  setManifestFile(event.target.value);
                  setSource("manifest");
                }}
                placeholder="path to build_manifest.json"
                spellCheck={false}
                autoComplete="off"
              />
              <datalist id={ids.list}>
                {manifests.map((file) => (
                  <option key={file} value={file} />
                ))}
              </datalist>
            </div>
            <div className="field checkbox">
              <input
                id={ids.selection}
                type="radio"
                name="source"
                value="selection"
                checked={source === "selection"}
                onChange={() => setSource("selection")}
              />
              <label htmlFor={ids.selection}>
                The current selection, built first{" "}
                <span className="muted">
                  ({names.length} model{names.length === 1 ? "" : "s"})
                </span>
              </label>
            </div>
            {fromSelection && names.length === 0 ? (
              <p className="field-error">
                No models selected.{" "}
                <button type="button" className="link-button" onClick={() => setScreen("models")}>
                  Choose models…
                </button>
              </p>
            ) : null}
          </fieldset>
          <RunTargetFields value={target} onChange={setTarget} />
          {onNodes && target.nodes.size === 0 ? (
            <p className="field-error">Choose at least one node.</p>
          ) : null}
          <ContextFields
            form={form}
            required={false}
            legend={fromSelection ? "Build target and context" : "Context overrides (optional)"}
          />
          {fromSelection && !targetChosen ? (
            <p className="field-error">Choose the GPU vendor and guest OS: the selection is built first.</p>
          ) : null}
          <div className="field-row">
            <div className="field">
              <label htmlFor={ids.timeout}>Timeout (s)</label>
              <input
                id={ids.timeout}
                name="timeout"
                type="number"
                min={0}
                step={1}
                inputMode="numeric"
                value={timeout}
                onChange={(event) => setTimeoutText(event.target.value)}
                placeholder="7200 (0: none)"
                aria-invalid={timeoutValid ? undefined : true}
              />
            </div>
            <div className="field checkbox align-end">
              <input
                id={ids.keep}
                type="checkbox"
                checked={keepAlive}
                onChange={(event) => setKeepAlive(event.target.checked)}
              />
              <label htmlFor={ids.keep}>Keep containers alive</label>
            </div>
          </div>
          {!timeoutValid ? (
            <p className="field-error">The timeout is a whole number of seconds, 0 or more.</p>
          ) : null}
          {start.error ? <ErrorPanel compact title="The run did not start" error={start.error} /> : null}
          {status.data?.docker.ok === false ? (
            <p className="field-error">Docker is not reachable: the run will fail until it is back.</p>
          ) : null}
          <button type="submit" className="primary" disabled={!ready}>
            {start.isPending ? "Starting…" : "Run"}
          </button>
        </form>
        <div className="job-area">
          {jobId ? (
            <JobView key={jobId} jobId={jobId} />
          ) : (
            <EmptyState title="No run yet.">
              <p>
                Pick a manifest from a build (or run the selection); per-model status, the live log and
                results appear here.
              </p>
            </EmptyState>
          )}
        </div>
      </div>
    </div>
  );
}
