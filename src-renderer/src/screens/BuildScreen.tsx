import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { ContextFields, useContextForm } from "../components/ContextFields.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { JobView } from "../components/JobView.js";
import { useAppState } from "../state/appState.js";
import { rememberJob, useClient, useEngineStatus, useZoo } from "../state/queries.js";
import { JobPicker, useShownJob } from "./JobsScreen.js";

/** The selection in zoo order (the engine keeps zoo order too). */
export function useSelectedNames(): string[] {
  const { madRoot, selection } = useAppState();
  const zoo = useZoo(madRoot);
  const models = zoo.data?.models;
  if (!models) return [...selection];
  return models.map((entry) => entry.model.name).filter((name) => selection.has(name));
}

export function BuildScreen() {
  const client = useClient();
  const queryClient = useQueryClient();
  const { madRoot, setScreen, showJob } = useAppState();
  const status = useEngineStatus();
  const names = useSelectedNames();
  const form = useContextForm({ gpuVendor: "NONE", guestOs: "UBUNTU", extra: "{}" });
  const [registry, setRegistry] = useState("");
  const [noCache, setNoCache] = useState(false);
  const registryId = useId();
  const noCacheId = useId();
  const jobId = useShownJob("build");

  const start = useMutation({
    mutationFn: (context: string) =>
      client.call("build.start", {
        ...(madRoot === "" ? {} : { madRoot }),
        tags: names,
        context,
        ...(registry.trim() === "" ? {} : { registry: registry.trim() }),
        ...(noCache ? { cleanDockerCache: true } : {}),
      }),
    onSuccess: ({ job }) => {
      rememberJob(queryClient, job);
      showJob("build", job.id);
    },
  });

  const dockerDown = status.data?.docker.ok === false;
  const canStart = names.length > 0 && form.valid && !start.isPending;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (canStart && form.json !== undefined) start.mutate(form.json);
  };

  return (
    <div className="screen job-screen">
      <header className="screen-header">
        <h2>Build</h2>
        <JobPicker kind="build" />
      </header>
      <div className="job-layout">
        <form className="panel job-form" onSubmit={submit} aria-label="Start a build">
          <fieldset>
            <legend>Models</legend>
            {names.length === 0 ? (
              <EmptyState title="No models selected.">
                <button type="button" onClick={() => setScreen("models")}>
                  Choose models…
                </button>
              </EmptyState>
            ) : (
              <p className="chosen-models" data-testid="build-models">
                {names.map((name) => (
                  <span key={name} className="tag">
                    {name}
                  </span>
                ))}
              </p>
            )}
          </fieldset>
          <ContextFields form={form} required legend="Build target and context" />
          <div className="field">
            <label htmlFor={registryId}>
              Registry <span className="muted">(optional: push images there)</span>
            </label>
            <input
              id={registryId}
              name="registry"
              value={registry}
              onChange={(event) => setRegistry(event.target.value)}
              placeholder="e.g. 127.0.0.1:5000 (empty: images stay local)"
              spellCheck={false}
              autoComplete="off"
            />
          </div>
          <div className="field checkbox">
            <input
              id={noCacheId}
              type="checkbox"
              checked={noCache}
              onChange={(event) => setNoCache(event.target.checked)}
            />
            <label htmlFor={noCacheId}>Rebuild without the Docker cache</label>
          </div>
          {start.error ? <ErrorPanel compact title="The build did not start" error={start.error} /> : null}
          {dockerDown ? (
            <p className="field-error">Docker is not reachable: the build will fail until it is back.</p>
          ) : null}
          <button type="submit" className="primary" disabled={!canStart}>
            {start.isPending
              ? "Starting…"
              : `Build ${names.length || ""} model${names.length === 1 ? "" : "s"}`}
          </button>
        </form>
        <div className="job-area">
          {jobId ? (
            <JobView key={jobId} jobId={jobId} />
          ) : (
            <EmptyState title="No build yet.">
              <p>Select models, choose the target, then Build. Progress and the live log appear here.</p>
            </EmptyState>
          )}
        </div>
      </div>
    </div>
  );
}
