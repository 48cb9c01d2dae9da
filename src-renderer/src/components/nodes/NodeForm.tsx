import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { ContractError } from "../../../../shared/contract.js";
import type { Node, NodeInput } from "../../../../shared/schemas/nodes.js";
import { toContractError } from "../../contract/errors.js";
import { nodesChanged } from "../../state/nodes.js";
import { useClient } from "../../state/queries.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { Dialog } from "./Dialog.js";
import { formatLabels, parseLabels } from "./format.js";

const FIELDS = [
  { key: "name", label: "Name", placeholder: "gpu1", required: true },
  { key: "host", label: "Host", placeholder: "10.0.0.11 or gpu1.example.com", required: true },
  { key: "port", label: "Port", placeholder: "22" },
  { key: "user", label: "User", placeholder: "root" },
  {
    key: "identityFile",
    label: "Identity file (private key)",
    placeholder: "~/.ssh/id_ed25519 (empty: ssh-agent)",
  },
  {
    key: "identityPassphraseEnv",
    label: "Passphrase variable",
    placeholder: "NAME of the variable holding the key passphrase",
  },
  { key: "proxyJump", label: "ProxyJump", placeholder: "user@bastion:22 or a node name" },
  { key: "labels", label: "Labels (key=value, comma separated)", placeholder: "gpu=MI300X, rack=a" },
  { key: "dockerSocket", label: "Docker socket on the node", placeholder: "/var/run/docker.sock" },
  { key: "workDir", label: "Work directory on the node", placeholder: "~/madengine" },
  { key: "knownHostsFile", label: "known_hosts file", placeholder: "the app's (default ~/.ssh/known_hosts)" },
] as const;

type FieldKey = (typeof FIELDS)[number]["key"];
type FormValues = Record<FieldKey, string>;

function valuesOf(node: Node | undefined): FormValues {
  return {
    name: node?.name ?? "",
    host: node?.host ?? "",
    port: node ? String(node.port) : "",
    user: node?.user ?? "",
    identityFile: node?.identityFile ?? "",
    identityPassphraseEnv: node?.identityPassphraseEnv ?? "",
    proxyJump: node?.proxyJump ?? "",
    labels: node ? formatLabels(node.labels) : "",
    dockerSocket: node?.dockerSocket ?? "",
    workDir: node?.workDir ?? "",
    knownHostsFile: node?.knownHostsFile ?? "",
  };
}

/** The node as typed: blank optional fields are left out (the engine fills in its defaults). */
function nodeOf(values: FormValues, labels: Record<string, string>): NodeInput {
  const optional = (key: FieldKey) => (values[key].trim() === "" ? {} : { [key]: values[key].trim() });
  return {
    name: values.name.trim(),
    host: values.host.trim(),
    ...(values.port.trim() === "" ? {} : { port: Number(values.port.trim()) }),
    ...optional("user"),
    ...optional("identityFile"),
    ...optional("identityPassphraseEnv"),
    ...optional("proxyJump"),
    labels,
    ...optional("dockerSocket"),
    ...optional("workDir"),
    ...optional("knownHostsFile"),
  };
}

/** The form field an engine error is about (`node.port` -> port), if any. */
function fieldOf(error: ContractError): FieldKey | undefined {
  const match = /^node\.([A-Za-z]+)/.exec(error.path ?? "");
  return FIELDS.find((field) => field.key === match?.[1])?.key;
}

/** Add a node, or edit one (`node` given): the engine validates, and its messages go under the field at fault. */
export function NodeForm({ node, onClose }: { node?: Node; onClose(): void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<FormValues>(() => valuesOf(node));
  const [labelError, setLabelError] = useState<string>();
  const id = useId();
  const save = useMutation({
    mutationFn: (input: NodeInput) =>
      node
        ? client.call("nodes.update", { name: node.name, node: input })
        : client.call("nodes.add", { node: input }),
    onSuccess: () => {
      nodesChanged(queryClient);
      onClose();
    },
  });
  const error = save.error ? toContractError(save.error) : undefined;
  const errorField = error ? fieldOf(error) : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { labels, bad } = parseLabels(values.labels);
    setLabelError(bad.length > 0 ? `write labels as key=value (not: ${bad.join(", ")})` : undefined);
    if (bad.length > 0) return;
    save.mutate(nodeOf(values, labels));
  };
  return (
    <Dialog title={node ? `Edit ${node.name}` : "Add a node"} onClose={onClose} className="node-form-dialog">
      <form
        className="node-form"
        onSubmit={submit}
        aria-label={node ? `Edit ${node.name}` : "Add a node"}
        noValidate
      >
        <div className="node-form-grid">
          {FIELDS.map((field) => {
            const fieldId = `${id}-${field.key}`;
            const message =
              field.key === "labels" && labelError
                ? labelError
                : errorField === field.key
                  ? error?.message
                  : undefined;
            return (
              <div className="field" key={field.key}>
                <label htmlFor={fieldId}>{field.label}</label>
                <input
                  id={fieldId}
                  name={field.key}
                  value={values[field.key]}
                  placeholder={field.placeholder}
                  required={"required" in field}
                  inputMode={field.key === "port" ? "numeric" : undefined}
                  spellCheck={false}
                  autoComplete="off"
                  aria-invalid={message ? true : undefined}
                  aria-describedby={message ? `${fieldId}-error` : undefined}
                  onChange={(event) => setValues((old) => ({ ...old, [field.key]: event.target.value }))}
                />
                {message ? (
                  <p className="field-error" id={`${fieldId}-error`} role="alert">
                    {message}
                  </p>
                ) : null}
              </div>
            );
          })}
        </div>
        {error && !errorField ? <ErrorPanel error={error} title="The node was not saved" compact /> : null}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : node ? "Save" : "Add node"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
