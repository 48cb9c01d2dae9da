import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Node } from "../../../../shared/schemas/nodes.js";
import { nodeKeys } from "../../state/nodes.js";
import { useClient } from "../../state/queries.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { Dialog } from "./Dialog.js";

/**
 * Trust on first use, by a person: the key the node presents now (fingerprint and type) is shown,
 * and Trust records exactly that key (the engine refuses if the node presents another by then). A
 * changed or revoked key gets a refusal view and no Trust button.
 */
export function TrustDialog({ node, onClose }: { node: Node; onClose(): void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const key = useQuery({
    queryKey: ["nodes.hostKey", node.name],
    queryFn: () => client.call("nodes.hostKey", { name: node.name }),
    gcTime: 0,
    staleTime: 0,
    retry: false,
  });
  const trust = useMutation({
    mutationFn: (fingerprint: string) => client.call("nodes.trust", { name: node.name, fingerprint }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: nodeKeys.health }),
  });
  const info = key.data;
  const refused = info?.status === "changed" || info?.status === "revoked";
  return (
    <Dialog title={`Host key of ${node.name}`} onClose={onClose} alert={refused} className="trust-dialog">
      {key.isPending ? <p aria-live="polite">Connecting to {node.host}…</p> : null}
      {key.error ? <ErrorPanel error={key.error} title="Could not see the host key" compact /> : null}
      {info ? (
        <>
          {refused ? (
            <div className="key-refusal" role="alert">
              <p className="key-refusal-title">
                {info.status === "changed" ? "Host key CHANGED: refusing to connect" : "Host key REVOKED"}
              </p>
              <p>{info.message}</p>
            </div>
          ) : (
            <p>{info.message}</p>
          )}
          <dl className="key-facts">
            <dt>Address</dt>
            <dd>
              <code>
                {info.host}:{info.port}
              </code>
            </dd>
            <dt>Key type</dt>
            <dd>
              <code data-testid="key-type">{info.keyType}</code>
            </dd>
            <dt>{refused ? "Presented fingerprint" : "Fingerprint"}</dt>
            <dd>
              <code className="fingerprint" data-testid="key-fingerprint">
                {info.fingerprint}
              </code>
            </dd>
            {info.expected ? (
              <>
                <dt>known_hosts has</dt>
                <dd>
                  {info.expected.map((fingerprint) => (
                    <code key={fingerprint} className="fingerprint">
                      {fingerprint}
                    </code>
                  ))}
                </dd>
              </>
            ) : null}
            <dt>known_hosts file</dt>
            <dd>
              <code>{info.knownHostsFile}</code>
            </dd>
          </dl>
        </>
      ) : null}
      {trust.error ? <ErrorPanel error={trust.error} title="Not trusted" compact /> : null}
      {trust.data ? (
        <p className="field-ok" role="status">
          {trust.data.message}
        </p>
      ) : null}
      <div className="dialog-actions">
        {trust.data || info?.status === "known" || refused || key.error ? (
          <button type="button" onClick={onClose}>
            Close
          </button>
        ) : (
          <>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              className="primary"
              disabled={info?.status !== "unknown" || trust.isPending}
              onClick={() => info && trust.mutate(info.fingerprint)}
            >
              {trust.isPending ? "Trusting…" : "Trust"}
            </button>
          </>
        )}
      </div>
    </Dialog>
  );
}
