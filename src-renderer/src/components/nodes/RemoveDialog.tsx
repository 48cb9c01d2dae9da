import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { Node } from "../../../../shared/schemas/nodes.js";
import { nodesChanged } from "../../state/nodes.js";
import { useClient } from "../../state/queries.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { Dialog } from "./Dialog.js";

/** Confirms removing a node from the nodes file (its known_hosts line stays). */
export function RemoveDialog({ node, onClose }: { node: Node; onClose(): void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => client.call("nodes.remove", { name: node.name }),
    onSuccess: () => {
      nodesChanged(queryClient);
      onClose();
    },
  });
  return (
    <Dialog title={`Remove ${node.name}?`} onClose={onClose}>
      <p>
        {node.name} ({node.user}@{node.host}:{node.port}) leaves the nodes file; runs will no longer go to it.
        Its host key stays in known_hosts.
      </p>
      {remove.error ? <ErrorPanel error={remove.error} title="Not removed" compact /> : null}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          Remove {node.name}
        </button>
      </div>
    </Dialog>
  );
}
