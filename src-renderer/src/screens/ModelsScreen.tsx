import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import type { CallResult } from "../../../shared/contract.js";
import { modelTags } from "../../../shared/schemas/model.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { useAppState } from "../state/appState.js";
import { useClient, useEngineStatus, useZoo } from "../state/queries.js";

type Discovered = CallResult<"zoo.discover">["models"][number];

function matchesFilter(entry: Discovered, needle: string): boolean {
  if (needle === "") return true;
  const { model } = entry;
  return (
    model.name.toLowerCase().includes(needle) ||
    model.dockerfile.toLowerCase().includes(needle) ||
    modelTags(model).some((tag) => tag.toLowerCase().includes(needle))
  );
}

export function ModelsScreen() {
  const { madRoot, setMadRoot, selection, setSelection, setScreen, runSelected } = useAppState();
  const status = useEngineStatus();
  const client = useClient();
  const zoo = useZoo(madRoot);
  const [rootInput, setRootInput] = useState(madRoot);
  const [filter, setFilter] = useState("");
  const [tagFilter, setTagFilter] = useState<ReadonlySet<string>>(new Set());
  const [detailName, setDetailName] = useState<string>();
  const rootId = useId();
  const filterId = useId();

  useEffect(() => setRootInput(madRoot), [madRoot]);

  const models = zoo.data?.models ?? [];
  const tagCounts = useMemo(() => {
    const counts = new Map<string, number>();
    for (const entry of models) {
      for (const tag of modelTags(entry.model)) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [models]);

  const needle = filter.trim().toLowerCase();
  const shown = useMemo(
    () =>
      models.filter(
        (entry) =>
          matchesFilter(entry, needle) && [...tagFilter].every((tag) => modelTags(entry.model).includes(tag)),
      ),
    [models, needle, tagFilter],
  );
  const detail = models.find((entry) => entry.model.name === detailName) ?? shown[0];

  const shownSelected = shown.filter((entry) => selection.has(entry.model.name)).length;
  const selectAll = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAll.current) {
      selectAll.current.indeterminate = shownSelected > 0 && shownSelected < shown.length;
    }
  }, [shownSelected, shown.length]);

  const toggle = (name: string) => {
    const next = new Set(selection);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelection(next);
  };
  const toggleAllShown = () => {
    const next = new Set(selection);
    if (shownSelected === shown.length) for (const entry of shown) next.delete(entry.model.name);
    else for (const entry of shown) next.add(entry.model.name);
    setSelection(next);
  };
  const toggleTag = (tag: string) => {
    const next = new Set(tagFilter);
    if (next.has(tag)) next.delete(tag);
    else next.add(tag);
    setTagFilter(next);
  };

  const openRoot = (event: FormEvent) => {
    event.preventDefault();
    setTagFilter(new Set());
    setDetailName(undefined);
    setMadRoot(rootInput.trim());
  };
  /** The desktop app offers the system's folder picker; a browser has only the path field. */
  const browseForRoot = async () => {
    const picked = await client.call("dialog.pickDirectory", { title: "Open a MAD root" });
    if (picked.path) {
      setRootInput(picked.path);
      setTagFilter(new Set());
      setDetailName(undefined);
      setMadRoot(picked.path);
    }
  };
  const openBundledZoo = () => {
    setRootInput("");
    setTagFilter(new Set());
    setDetailName(undefined);
    setMadRoot("");
  };

  const selectedNames = models.filter((entry) => selection.has(entry.model.name)).map((e) => e.model.name);

  return (
    <div className="screen models-screen">
      <header className="screen-header">
        <h2>Models</h2>
        <form className="root-form" onSubmit={openRoot}>
          <label htmlFor={rootId}>MAD root</label>
          <input
            id={rootId}
            name="madRoot"
            className="root-input"
            value={rootInput}
            onChange={(event) => setRootInput(event.target.value)}
            placeholder={
              status.data ? `${status.data.defaultMadRoot} (bundled example zoo)` : "bundled example zoo"
            }
            spellCheck={false}
            autoComplete="off"
          />
          <button type="submit">Open</button>
          {client.bridge === "electron" ? (
            <button type="button" onClick={() => void browseForRoot()}>
              Browse…
            </button>
          ) : null}
          <button type="button" onClick={openBundledZoo} disabled={madRoot === "" && rootInput === ""}>
            Bundled zoo
          </button>
        </form>
      </header>

      {zoo.isPending ? (
        <p className="loading" role="status">
          Reading models…
        </p>
      ) : null}
      {zoo.error ? (
        <ErrorPanel title="This folder cannot be read as a MAD root" error={zoo.error}>
          <button type="button" onClick={() => void zoo.refetch()}>
            Try again
          </button>
          <button type="button" onClick={openBundledZoo}>
            Open the bundled zoo
          </button>
        </ErrorPanel>
      ) : null}

      {zoo.data ? (
        <div className="models-layout">
          <div className="models-main">
            <p className="muted zoo-root">
              <code>{zoo.data.root}</code> · {models.length} model{models.length === 1 ? "" : "s"}
            </p>
            <div className="filter-row">
              <label htmlFor={filterId} className="sr-only">
                Filter models
              </label>
              <input
                id={filterId}
                type="search"
                className="filter-input"
                placeholder="Filter by name, tag or Dockerfile"
                value={filter}
                onChange={(event) => setFilter(event.target.value)}
              />
            </div>
            {tagCounts.length > 0 ? (
              <fieldset className="tag-chips">
                <legend className="sr-only">Show only models with these tags</legend>
                {tagCounts.map(([tag, n]) => (
                  <button
                    type="button"
                    key={tag}
                    className="chip"
                    aria-pressed={tagFilter.has(tag)}
                    onClick={() => toggleTag(tag)}
                    data-tag={tag}
                  >
                    {tag} <span className="chip-count">{n}</span>
                  </button>
                ))}
              </fieldset>
            ) : null}
            {models.length === 0 ? (
              <EmptyState title="This MAD root has no models.">
                <p>
                  Add entries to <code>models.json</code>, or open another folder.
                </p>
              </EmptyState>
            ) : shown.length === 0 ? (
              <EmptyState title="No model matches the filter.">
                <button
                  type="button"
                  onClick={() => {
                    setFilter("");
                    setTagFilter(new Set());
                  }}
                >
                  Clear the filter
                </button>
              </EmptyState>
            ) : (
              <div className="table-scroll">
                <table className="data-table models-table">
                  <caption className="sr-only">Models of the MAD root</caption>
                  <thead>
                    <tr>
                      <th scope="col" className="col-check">
                        <input
                          ref={selectAll}
                          type="checkbox"
                          aria-label="Select all models shown"
                          checked={shown.length > 0 && shownSelected === shown.length}
                          onChange={toggleAllShown}
                        />
                      </th>
                      <th scope="col">Name</th>
                      <th scope="col">Tags</th>
                      <th scope="col">Dockerfile</th>
                      <th scope="col">GPUs</th>
                      <th scope="col">Source</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((entry) => {
                      const { model } = entry;
                      const current = detail?.model.name === model.name;
                      return (
                        <tr
                          key={model.name}
                          className={current ? "current" : undefined}
                          data-model={model.name}
                        >
                          <td className="col-check">
                            <input
                              type="checkbox"
                              aria-label={`Select ${model.name}`}
                              checked={selection.has(model.name)}
                              onChange={() => toggle(model.name)}
                            />
                          </td>
                          <td>
                            <button
                              type="button"
                              className="link-button model-name"
                              aria-current={current ? "true" : undefined}
                              onClick={() => setDetailName(model.name)}
                            >
                              {model.name}
                            </button>
                          </td>
                          <td>
                            <span className="tag-list">
                              {modelTags(model).map((tag) => (
                                <span key={tag} className="tag">
                                  {tag}
                                </span>
                              ))}
                            </span>
                          </td>
                          <td>
                            <code>{model.dockerfile}</code>
                          </td>
                          <td className="num">{model.n_gpus}</td>
                          <td>
                            {entry.source.kind === "root"
                              ? "models.json"
                              : (entry.source.dir ?? entry.source.kind)}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <aside className="details-pane" aria-label="Model details">
            {detail ? (
              <ModelDetails entry={detail} />
            ) : (
              <EmptyState title="Pick a model to see its details." />
            )}
          </aside>
        </div>
      ) : null}

      <section className="selection-bar" aria-label="Selection">
        <span className="selection-text" data-testid="selection-count">
          {selectedNames.length === 0
            ? "No models selected: tick models (or filter by a tag and tick the header box) to build or run them."
            : `${selectedNames.length} selected: ${selectedNames.slice(0, 6).join(", ")}${selectedNames.length > 6 ? ", …" : ""}`}
        </span>
        <button type="button" onClick={() => setSelection(new Set())} disabled={selectedNames.length === 0}>
          Clear
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => setScreen("build")}
          disabled={selectedNames.length === 0}
        >
          Build selected…
        </button>
        <button type="button" onClick={runSelected} disabled={selectedNames.length === 0}>
          Run selected…
        </button>
      </section>
    </div>
  );
}

function ModelDetails({ entry }: { entry: Discovered }) {
  const { model, source } = entry;
  const timeout =
    model.timeout === undefined
      ? "default (--timeout)"
      : model.timeout === -1
        ? "none (-1)"
        : `${model.timeout} s`;
  return (
    <div className="model-details">
      <h3>{model.name}</h3>
      <dl className="details">
        <dt>Dockerfile family</dt>
        <dd>
          <code>{model.dockerfile}</code>
        </dd>
        <dt>Script</dt>
        <dd>
          <code>{model.scripts}</code>
        </dd>
        <dt>Arguments</dt>
        <dd>
          {model.args ? <code className="wrap">{model.args}</code> : <span className="muted">none</span>}
        </dd>
        <dt>GPUs (n_gpus)</dt>
        <dd>{model.n_gpus === "-1" ? "all (-1)" : model.n_gpus}</dd>
        <dt>Timeout</dt>
        <dd>{timeout}</dd>
        <dt>Tags</dt>
        <dd>{modelTags(model).join(", ") || <span className="muted">none</span>}</dd>
        <dt>Source file</dt>
        <dd>
          <code className="wrap">{source.file}</code>
          <span className="muted"> ({source.kind})</span>
        </dd>
        {model.training_precision ? (
          <>
            <dt>Precision</dt>
            <dd>{model.training_precision}</dd>
          </>
        ) : null}
        {model.multiple_results ? (
          <>
            <dt>Multiple results</dt>
            <dd>
              <code>{model.multiple_results}</code>
            </dd>
          </>
        ) : null}
        {model.data ? (
          <>
            <dt>Data</dt>
            <dd>{model.data}</dd>
          </>
        ) : null}
        {model.owner ? (
          <>
            <dt>Owner</dt>
            <dd>{model.owner}</dd>
          </>
        ) : null}
        {model.url ? (
          <>
            <dt>URL</dt>
            <dd>
              <code className="wrap">{model.url}</code>
            </dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}
