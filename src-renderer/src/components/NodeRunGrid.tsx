import { useMutation } from "@tanstack/react-query";
import type { JobItem, JobNode, JobSummary } from "../../../shared/contract.js";
import { useClient } from "../state/queries.js";
import { ErrorPanel } from "./ErrorPanel.js";

/** The colour class a node's name has here and in the interleaved log (same order, same palette). */
export function nodeColourClass(job: JobSummary, node: string): string {
  const index = job.nodes?.findIndex((each) => each.name === node) ?? -1;
  return `node-colour-${index < 0 ? 0 : index % 10}`;
}

function NodeCancel({ jobId, node }: { jobId: string; node: JobNode }) {
  const client = useClient();
  const cancel = useMutation({
    mutationFn: () => client.call("jobs.cancelNode", { id: jobId, node: node.name }),
  });
  const active = node.state === "connecting" || node.state === "ready" || node.state === "running";
  if (!active) return null;
  return (
    <>
      <button
        type="button"
        className="danger small"
        onClick={() => cancel.mutate()}
        disabled={cancel.isPending}
        aria-label={`Cancel ${node.name}`}
      >
        {cancel.isPending ? "Cancelling…" : "Cancel node"}
      </button>
      {cancel.error ? (
        <ErrorPanel compact title={`Cancelling ${node.name} failed`} error={cancel.error} />
      ) : null}
    </>
  );
}

/**
 * A run on GPU nodes: one row per node (state, counts, why it failed, cancel just that node) and
 * a models × nodes grid of per-model states.
 */
export function NodeRunGrid({ job, items }: { job: JobSummary; items: readonly JobItem[] }) {
  const nodes = job.nodes ?? [];
  const models = [...new Set(items.filter((item) => item.node).map((item) => item.label))];
  const cell = (node: string, model: string) =>
    items.find((item) => item.node === node && item.label === model);
  return (
    <section className="node-run" aria-label="Nodes of this run">
      <table className="data-table nodes-table">
        <caption className="sr-only">Nodes of this run</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col" className="num">
              Succeeded
            </th>
            <th scope="col" className="num">
              Failed
            </th>
            <th scope="col">Detail</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node) => (
            <tr key={node.name} data-node={node.name} data-node-state={node.state}>
              <td>
                <code className={nodeColourClass(job, node.name)}>{node.name}</code>
                {node.address ? <span className="muted"> {node.address}</span> : null}
              </td>
              <td>
                <span className={`state state-${node.state}`}>{node.state}</span>
              </td>
              <td className="num">{node.succeeded}</td>
              <td className="num">{node.failed}</td>
              <td className="detail">{node.detail ?? ""}</td>
              <td>{job.state === "running" ? <NodeCancel jobId={job.id} node={node} /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {models.length > 0 ? (
        <table className="data-table node-model-grid">
          <caption className="sr-only">Models on each node</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              {nodes.map((node) => (
                <th scope="col" key={node.name}>
                  <span className={nodeColourClass(job, node.name)}>{node.name}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model} data-model={model}>
                <th scope="row">
                  <code>{model}</code>
                </th>
                {nodes.map((node) => {
                  const item = cell(node.name, model);
                  return (
                    <td key={node.name} data-cell={`${node.name}/${model}`} title={item?.detail ?? ""}>
                      {item ? (
                        <span className={`state state-${item.state.replace(/\s+/g, "-")}`}>{item.state}</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
