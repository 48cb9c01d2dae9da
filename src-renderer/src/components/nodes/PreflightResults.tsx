import type { CallResult } from "../../../../shared/contract.js";

/** Preflight answers: one row per check, with the fix for each failure. */
export function PreflightResults({ result }: { result: CallResult<"nodes.preflight"> }) {
  const ready = result.nodes.filter((node) => node.ok).length;
  return (
    <section className="panel preflight" aria-label="Preflight results">
      <header className="panel-header">
        <h3>Preflight</h3>
        <span className="muted" role="status">
          {ready} of {result.nodes.length} node{result.nodes.length === 1 ? "" : "s"} ready (checked in{" "}
          {result.seconds.toFixed(1)} s)
        </span>
      </header>
      <div className="table-scroll">
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Check</th>
              <th scope="col">Result</th>
              <th scope="col">Detail</th>
              <th scope="col">Fix</th>
            </tr>
          </thead>
          <tbody>
            {result.nodes.flatMap((node) =>
              node.checks.map((check) => (
                <tr key={`${node.node}-${check.check}`} data-node={node.node} data-check={check.check}>
                  <td>{node.node}</td>
                  <td>{check.check}</td>
                  <td className={check.ok ? "check-pass" : "check-fail"}>{check.ok ? "pass" : "FAIL"}</td>
                  <td className="detail">{check.detail}</td>
                  <td className="detail">{check.fix ?? ""}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
