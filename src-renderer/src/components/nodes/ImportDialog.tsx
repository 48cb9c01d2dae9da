import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { CallArgs } from "../../../../shared/contract.js";
import { nodesChanged } from "../../state/nodes.js";
import { useClient } from "../../state/queries.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { Dialog } from "./Dialog.js";

/** Imports nodes from an ssh config (chosen by host patterns) or from an Ansible inventory group. */
export function ImportDialog({ onClose }: { onClose(): void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const id = useId();
  const [source, setSource] = useState<"ssh-config" | "ansible">("ssh-config");
  const [file, setFile] = useState("");
  const [hosts, setHosts] = useState("");
  const [group, setGroup] = useState("");
  const [replace, setReplace] = useState(false);
  const run = useMutation({
    mutationFn: (request: CallArgs<"nodes.import">) => client.call("nodes.import", request),
    onSuccess: () => nodesChanged(queryClient),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const path = file.trim();
    if (source === "ssh-config") {
      const patterns = hosts.split(/[\s,]+/).filter((each) => each !== "");
      run.mutate({
        source,
        ...(path ? { file: path } : {}),
        ...(patterns.length > 0 ? { hosts: patterns } : {}),
        replace,
      });
    } else run.mutate({ source, file: path, ...(group.trim() ? { group: group.trim() } : {}), replace });
  };
  return (
    <Dialog title="Import nodes" onClose={onClose}>
      <form className="node-form" onSubmit={submit} aria-label="Import nodes" noValidate>
        <fieldset className="field-row">
          <legend>From</legend>
          <div className="field checkbox">
            <input
              type="radio"
              id={`${id}-ssh`}
              name="source"
              checked={source === "ssh-config"}
              onChange={() => setSource("ssh-config")}
            />
            <label htmlFor={`${id}-ssh`}>ssh config</label>
          </div>
          <div className="field checkbox">
            <input
              type="radio"
              id={`${id}-ansible`}
              name="source"
              checked={source === "ansible"}
              onChange={() => setSource("ansible")}
            />
            <label htmlFor={`${id}-ansible`}>Ansible inventory (INI)</label>
          </div>
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-file`}>
            {source === "ssh-config" ? "ssh config file" : "Inventory file"}
          </label>
          <input
            id={`${id}-file`}
            value={file}
            onChange={(event) => setFile(event.target.value)}
            placeholder={source === "ssh-config" ? "~/.ssh/config" : "path to inventory.ini"}
            spellCheck={false}
          />
        </div>
        {source === "ssh-config" ? (
          <div className="field">
            <label htmlFor={`${id}-hosts`}>Host patterns</label>
            <input
              id={`${id}-hosts`}
              value={hosts}
              onChange={(event) => setHosts(event.target.value)}
              placeholder="every host; or e.g. gpu-* !gpu-old"
              spellCheck={false}
            />
          </div>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-group`}>Group</label>
            <input
              id={`${id}-group`}
              value={group}
              onChange={(event) => setGroup(event.target.value)}
              placeholder="gpu_nodes"
              spellCheck={false}
            />
          </div>
        )}
        <div className="field checkbox">
          <input
            type="checkbox"
            id={`${id}-replace`}
            checked={replace}
            onChange={(event) => setReplace(event.target.checked)}
          />
          <label htmlFor={`${id}-replace`}>Replace nodes with the same name</label>
        </div>
        {run.error ? <ErrorPanel error={run.error} title="Nothing was imported" compact /> : null}
        {run.data ? (
          <div role="status" className="field-ok">
            <p>
              Imported {run.data.imported.length} node{run.data.imported.length === 1 ? "" : "s"}:{" "}
              {run.data.imported.map((node) => node.name).join(", ")}
            </p>
            {run.data.warnings.map((warning) => (
              <p key={warning} className="field-hint">
                {warning}
              </p>
            ))}
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            {run.data ? "Close" : "Cancel"}
          </button>
          {run.data ? null : (
            <button
              type="submit"
              className="primary"
              disabled={run.isPending || (source === "ansible" && !file.trim())}
            >
              {run.isPending ? "Importing…" : "Import"}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}
