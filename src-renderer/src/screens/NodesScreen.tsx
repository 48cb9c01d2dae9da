import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { Node } from "../../../shared/schemas/nodes.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { ImportDialog } from "../components/nodes/ImportDialog.js";
import { NodeCard } from "../components/nodes/NodeCard.js";
import { NodeForm } from "../components/nodes/NodeForm.js";
import { PreflightResults } from "../components/nodes/PreflightResults.js";
import { RemoveDialog } from "../components/nodes/RemoveDialog.js";
import { TrustDialog } from "../components/nodes/TrustDialog.js";
import { useAppState } from "../state/appState.js";
import { useNodeHealth, useNodesList, useNodesWatch } from "../state/nodes.js";
import { useClient } from "../state/queries.js";

type OpenDialog =
  | { kind: "add" }
  | { kind: "import" }
  | { kind: "edit"; node: Node }
  | { kind: "remove"; node: Node }
  | { kind: "trust"; node: Node };

/** GPU nodes: inventory, live health while the screen is shown, host-key trust and preflight. */
export function NodesScreen() {
  const client = useClient();
  const { screen } = useAppState();
  const watching = useNodesWatch(screen === "nodes");
  const list = useNodesList();
  const health = useNodeHealth();
  const [dialog, setDialog] = useState<OpenDialog>();
  const preflight = useMutation({
    mutationFn: (names?: string[]) => client.call("nodes.preflight", names ? { names } : {}),
  });
  const nodes = list.data?.nodes ?? [];
  const healthOf = new Map((health.data?.nodes ?? []).map((each) => [each.node, each]));
  const close = () => setDialog(undefined);
  return (
    <div className="screen nodes-screen">
      <header className="screen-header">
        <h2>Nodes</h2>
        <span className="muted small" data-testid="nodes-watching">
          {watching ? `Live: every ${((health.data?.intervalMs ?? 5000) / 1000).toFixed(0)} s` : "Paused"}
        </span>
        <span className="toolbar-spacer" />
        <button type="button" className="primary" onClick={() => setDialog({ kind: "add" })}>
          Add node
        </button>
        <button type="button" onClick={() => setDialog({ kind: "import" })}>
          Import…
        </button>
        <button
          type="button"
          disabled={nodes.length === 0 || preflight.isPending}
          onClick={() => preflight.mutate(undefined)}
        >
          {preflight.isPending ? "Checking…" : "Preflight all"}
        </button>
      </header>
      {list.data ? (
        <p className="muted small">
          Nodes file: <code>{list.data.file}</code>
        </p>
      ) : null}
      {list.error ? <ErrorPanel error={list.error} title="Cannot read the nodes file" /> : null}
      {list.data && nodes.length === 0 ? (
        <EmptyState title="No nodes yet">
          Add a GPU node (SSH with a key), or import them from an ssh config or an Ansible inventory.
        </EmptyState>
      ) : null}
      {preflight.error ? <ErrorPanel error={preflight.error} title="Preflight failed" compact /> : null}
      {preflight.data ? <PreflightResults result={preflight.data} /> : null}
      {nodes.length > 0 ? (
        <ul className="node-grid" aria-label="Nodes">
          {nodes.map((node) => (
            <NodeCard
              key={node.name}
              node={node}
              health={healthOf.get(node.name)}
              actions={{
                onTrust: (each) => setDialog({ kind: "trust", node: each }),
                onEdit: (each) => setDialog({ kind: "edit", node: each }),
                onRemove: (each) => setDialog({ kind: "remove", node: each }),
                onPreflight: (each) => preflight.mutate([each.name]),
              }}
            />
          ))}
        </ul>
      ) : null}
      {dialog?.kind === "add" ? <NodeForm onClose={close} /> : null}
      {dialog?.kind === "edit" ? <NodeForm node={dialog.node} onClose={close} /> : null}
      {dialog?.kind === "import" ? <ImportDialog onClose={close} /> : null}
      {dialog?.kind === "remove" ? <RemoveDialog node={dialog.node} onClose={close} /> : null}
      {dialog?.kind === "trust" ? <TrustDialog node={dialog.node} onClose={close} /> : null}
    </div>
  );
}
