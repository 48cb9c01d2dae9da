import type { NodeHealth } from "../../../../shared/contract/nodes.js";
import type { Node } from "../../../../shared/schemas/nodes.js";
import { seconds } from "./format.js";
import { DiskBar, GpuList } from "./HealthBars.js";

const STATE_LABEL: Record<NodeHealth["state"], string> = {
  pending: "Checking…",
  healthy: "Healthy",
  degraded: "Docker down",
  unreachable: "Unreachable",
};

/** A host key the node's known_hosts lacks: the card offers to look at it and trust it. */
export function needsTrust(health: NodeHealth | undefined): boolean {
  return health?.state === "unreachable" && /is not in .*fingerprint SHA256:/.test(health.error ?? "");
}

export interface NodeCardActions {
  onTrust(node: Node): void;
  onEdit(node: Node): void;
  onRemove(node: Node): void;
  onPreflight(node: Node): void;
}

function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return null;
  return (
    <ul className="node-labels" aria-label="Labels">
      {entries.map(([key, value]) => (
        <li key={key} className="chip">
          {key}={value}
        </li>
      ))}
    </ul>
  );
}

function Problem({ health }: { health: NodeHealth }) {
  return (
    <div className="node-problem" role="alert">
      <p className="node-error">{health.error}</p>
      {health.hint ? (
        <p className="node-hint">
          <strong>What to do:</strong> {health.hint}
        </p>
      ) : null}
      {health.retryInMs !== undefined ? (
        <p className="muted small">Next try in {seconds(health.retryInMs)}.</p>
      ) : null}
    </div>
  );
}

function Facts({ health }: { health: NodeHealth }) {
  return (
    <>
      <dl className="node-facts">
        <dt>Latency</dt>
        <dd data-testid="node-latency">{health.latencyMs !== undefined ? `${health.latencyMs} ms` : "–"}</dd>
        <dt>Docker</dt>
        <dd data-testid="node-docker">
          {health.dockerVersion ? `Docker ${health.dockerVersion}` : (health.dockerError ?? "–")}
        </dd>
        <dt>Containers</dt>
        <dd>{health.runningContainers ?? 0} running</dd>
        <dt>Load</dt>
        <dd>
          {health.load ? health.load.map((value) => value.toFixed(2)).join(" ") : "–"}
          {health.cpus ? <span className="muted"> ({health.cpus} CPUs)</span> : null}
        </dd>
      </dl>
      {health.disk ? <DiskBar disk={health.disk} /> : null}
      {health.gpus ? <GpuList gpus={health.gpus} /> : null}
    </>
  );
}

/** One node: its address and labels, its live health (or why it is not healthy), and its actions. */
export function NodeCard({
  node,
  health,
  actions,
}: {
  node: Node;
  health: NodeHealth | undefined;
  actions: NodeCardActions;
}) {
  const state = health?.state ?? "pending";
  return (
    <li
      className={`node-card node-${state}`}
      aria-labelledby={`node-${node.name}`}
      data-node={node.name}
      data-state={state}
    >
      <header className="node-card-header">
        <h3 id={`node-${node.name}`}>{node.name}</h3>
        <span className={`badge node-state state-${state}`} data-testid="node-state">
          <span className="dot" aria-hidden="true" />
          {STATE_LABEL[state]}
        </span>
      </header>
      <p className="node-address">
        <code>
          {node.user}@{node.host}:{node.port}
        </code>
        {node.proxyJump ? <span className="muted"> via {node.proxyJump}</span> : null}
      </p>
      <Labels labels={node.labels} />
      {health && (health.state === "unreachable" || health.state === "degraded") ? (
        <Problem health={health} />
      ) : null}
      {health && health.state !== "unreachable" && health.state !== "pending" ? (
        <Facts health={health} />
      ) : null}
      {health?.checkedAt ? (
        <p className="muted small">Checked {new Date(health.checkedAt).toLocaleTimeString()}</p>
      ) : null}
      <div className="node-actions">
        <button
          type="button"
          className={needsTrust(health) ? "primary" : undefined}
          onClick={() => actions.onTrust(node)}
        >
          Host key…
        </button>
        <button type="button" onClick={() => actions.onPreflight(node)}>
          Preflight
        </button>
        <button type="button" onClick={() => actions.onEdit(node)}>
          Edit
        </button>
        <button type="button" className="danger" onClick={() => actions.onRemove(node)}>
          Remove
        </button>
      </div>
    </li>
  );
}
