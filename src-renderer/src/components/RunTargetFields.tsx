import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { useAppState } from "../state/appState.js";
import { useClient } from "../state/queries.js";
import { ErrorPanel } from "./ErrorPanel.js";

export interface RunTarget {
  where: "local" | "nodes";
  nodes: ReadonlySet<string>;
  strategy: "replicate" | "distribute";
}

/** Where a run goes: this machine, or GPU nodes of the inventory (with a strategy). */
export function RunTargetFields({ value, onChange }: { value: RunTarget; onChange(next: RunTarget): void }) {
  const client = useClient();
  const { setScreen } = useAppState();
  const inventory = useQuery({
    queryKey: ["nodes.list"],
    queryFn: () => client.call("nodes.list", {}),
    enabled: value.where === "nodes",
  });
  const ids = { local: useId(), nodes: useId(), strategy: useId() };
  const toggle = (name: string) => {
    const next = new Set(value.nodes);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    // in inventory order, whatever order they were ticked in
    onChange({
      ...value,
      nodes: new Set(nodes.filter((node) => next.has(node.name)).map((node) => node.name)),
    });
  };
  const nodes = inventory.data?.nodes ?? [];
  const labels = [
    ...new Set(nodes.flatMap((node) => Object.entries(node.labels).map(([key, label]) => `${key}=${label}`))),
  ].sort();
  const selectLabel = (selector: string) => {
    const [key, label] = selector.split(/=(.*)/s) as [string, string];
    const matching = nodes.filter((node) => node.labels[key] === label).map((node) => node.name);
    onChange({ ...value, nodes: new Set(matching) });
  };
  return (
    <fieldset>
      <legend>Where</legend>
      <div className="field checkbox">
        <input
          id={ids.local}
          type="radio"
          name="where"
          checked={value.where === "local"}
          onChange={() => onChange({ ...value, where: "local" })}
        />
        <label htmlFor={ids.local}>This machine</label>
      </div>
      <div className="field checkbox">
        <input
          id={ids.nodes}
          type="radio"
          name="where"
          checked={value.where === "nodes"}
          onChange={() => onChange({ ...value, where: "nodes" })}
        />
        <label htmlFor={ids.nodes}>GPU nodes over SSH</label>
      </div>
      {value.where === "nodes" ? (
        <fieldset className="indent" aria-label="Nodes to run on">
          {inventory.error ? (
            <ErrorPanel compact title="The nodes cannot be read" error={inventory.error} />
          ) : null}
          {inventory.isSuccess && nodes.length === 0 ? (
            <p className="field-error">
              No nodes yet.{" "}
              <button type="button" className="link-button" onClick={() => setScreen("nodes")}>
                Add nodes…
              </button>
            </p>
          ) : null}
          {labels.length > 0 ? (
            <p className="label-picks">
              <span className="muted">By label:</span>{" "}
              {labels.map((selector) => (
                <button
                  type="button"
                  className="link-button"
                  key={selector}
                  onClick={() => selectLabel(selector)}
                  title={`Run on the nodes labelled ${selector}`}
                >
                  {selector}
                </button>
              ))}
            </p>
          ) : null}
          {nodes.map((node) => (
            <div className="field checkbox" key={node.name}>
              <input
                id={`${ids.nodes}-${node.name}`}
                type="checkbox"
                checked={value.nodes.has(node.name)}
                onChange={() => toggle(node.name)}
              />
              <label htmlFor={`${ids.nodes}-${node.name}`}>
                {node.name}{" "}
                <span className="muted">
                  {node.user}@{node.host}:{node.port}
                  {Object.keys(node.labels).length > 0
                    ? ` · ${Object.entries(node.labels)
                        .map(([key, label]) => `${key}=${label}`)
                        .join(", ")}`
                    : ""}
                </span>
              </label>
            </div>
          ))}
          <div className="field">
            <label htmlFor={ids.strategy}>Strategy</label>
            <select
              id={ids.strategy}
              value={value.strategy}
              onChange={(event) =>
                onChange({ ...value, strategy: event.target.value as RunTarget["strategy"] })
              }
            >
              <option value="replicate">replicate: every model on every node</option>
              <option value="distribute">distribute: each model once, on the next free node</option>
            </select>
          </div>
        </fieldset>
      ) : null}
    </fieldset>
  );
}
