import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useMemo, useState } from "react";
import type { CallArgs, ExportFile, ExportTarget } from "../../../shared/contract.js";
import { downloadBlob } from "../components/download.js";
import { EmptyState, ErrorPanel } from "../components/ErrorPanel.js";
import { tokenize } from "../components/highlight.js";
import { useAppState } from "../state/appState.js";
import { useClient, useContextValidation, useJobs } from "../state/queries.js";

const TARGETS: { id: ExportTarget; label: string }[] = [
  { id: "ansible", label: "Ansible playbook" },
  { id: "k8s", label: "Kubernetes manifests" },
  { id: "slurm", label: "Slurm script" },
  { id: "execution-config", label: "Execution config" },
];

interface ExportForm {
  target: ExportTarget;
  manifestFile: string;
  context: string;
  registry: string;
  timeout: string;
  gpusPerNode: string;
  mode: "containers" | "madengine-cli";
  nodesFile: string;
  withAnsibleCfg: boolean;
  namespace: string;
  nodeSelectors: string;
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
  imagePullSecret: string;
  scriptName: string;
  partition: string;
  tags: string;
}

const INITIAL: ExportForm = {
  target: "ansible",
  manifestFile: "",
  context: "",
  registry: "",
  timeout: "",
  gpusPerNode: "",
  mode: "containers",
  nodesFile: "",
  withAnsibleCfg: false,
  namespace: "",
  nodeSelectors: "",
  cpuRequest: "",
  cpuLimit: "",
  memoryRequest: "",
  memoryLimit: "",
  imagePullSecret: "",
  scriptName: "",
  partition: "",
  tags: "",
};

/** A number field: undefined when blank; anything else goes to the engine, which says what is wrong. */
function numberOf(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text.trim());
}

function text(value: string): string | undefined {
  return value.trim() === "" ? undefined : value.trim();
}

function listOf(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((each) => each.trim())
    .filter((each) => each !== "");
}

type ExportRequest = CallArgs<"export.preview">;

function requestOf(form: ExportForm, madRoot: string): ExportRequest {
  const base = {
    ...(madRoot === "" ? {} : { madRoot }),
    ...(text(form.context) === undefined ? {} : { context: form.context }),
  };
  const common = {
    registry: text(form.registry),
    timeoutSec: numberOf(form.timeout),
    gpusPerNode: numberOf(form.gpusPerNode),
  };
  const manifestFile = form.manifestFile.trim();
  switch (form.target) {
    case "ansible":
      return {
        ...base,
        target: "ansible",
        manifestFile,
        options: {
          ...common,
          mode: form.mode,
          nodesFile: text(form.nodesFile),
          withAnsibleCfg: form.withAnsibleCfg,
        },
      };
    case "k8s":
      return {
        ...base,
        target: "k8s",
        manifestFile,
        options: {
          ...common,
          namespace: text(form.namespace),
          nodeSelectors: listOf(form.nodeSelectors),
          cpuRequest: text(form.cpuRequest),
          cpuLimit: text(form.cpuLimit),
          memoryRequest: text(form.memoryRequest),
          memoryLimit: text(form.memoryLimit),
          imagePullSecret: text(form.imagePullSecret),
        },
      };
    case "slurm":
      return {
        ...base,
        target: "slurm",
        manifestFile,
        options: { ...common, output: text(form.scriptName), partition: text(form.partition) },
      };
    case "execution-config":
      return { ...base, target: "execution-config", options: { tags: listOf(form.tags) } };
  }
}

/** A preview of one file: tokens as <span> text (never markup), one line per row. */
export function CodeView({ file }: { file: ExportFile }) {
  const lines = useMemo(() => tokenize(file.content, file.language), [file]);
  return (
    <pre className={`code-view code-${file.language}`} data-language={file.language}>
      <code>
        {lines.map((tokens, row) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
          <span className="code-line" key={row}>
            {tokens.map((token, column) =>
              token.kind ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: tokens of a fixed line
                <span key={column} className={`tok tok-${token.kind}`}>
                  {token.text}
                </span>
              ) : (
                token.text
              ),
            )}
            {"\n"}
          </span>
        ))}
      </code>
    </pre>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

function download(file: ExportFile): void {
  downloadBlob(new Blob([file.content], { type: "text/plain;charset=utf-8" }), file.name);
}

export function ExportScreen() {
  const client = useClient();
  const { madRoot, runManifest } = useAppState();
  const jobs = useJobs();
  const desktop = client.bridge === "electron";
  const manifests = [
    ...new Set(
      (jobs.data?.jobs ?? [])
        .filter((job) => job.kind === "build" && job.state === "succeeded" && job.manifestFile)
        .map((job) => job.manifestFile!),
    ),
  ];
  const [form, setForm] = useState<ExportForm>(INITIAL);
  const [outputDir, setOutputDir] = useState("");
  const set = (patch: Partial<ExportForm>) => setForm((old) => ({ ...old, ...patch }));
  const id = useId();
  const ids = (name: string) => `${id}-${name}`;

  useEffect(() => {
    if (runManifest)
      setForm((old) => (old.manifestFile === "" ? { ...old, manifestFile: runManifest } : old));
  }, [runManifest]);
  useEffect(() => {
    const first = manifests[0];
    if (form.manifestFile === "" && first) setForm((old) => ({ ...old, manifestFile: first }));
  }, [form.manifestFile, manifests[0]]);

  const contextText = form.context.trim() === "" ? "{}" : form.context;
  const validation = useContextValidation(contextText);
  const contextError =
    validation.data?.ok === false && !validation.pending ? validation.data.error : undefined;
  const contextOk = validation.data?.ok === true && !validation.pending;

  const preview = useMutation({
    mutationFn: (request: ExportRequest) => client.call("export.preview", request),
  });
  const save = useMutation({
    mutationFn: (request: CallArgs<"export.save">) => client.call("export.save", request),
  });
  const pick = useMutation({
    mutationFn: () => client.call("dialog.pickDirectory", { title: "Save the exported files in" }),
    onSuccess: (picked) => {
      if (picked.supported && picked.path) setOutputDir(picked.path);
    },
  });

  const needsManifest = form.target !== "execution-config";
  const ready =
    (!needsManifest || form.manifestFile.trim() !== "") &&
    (form.target !== "execution-config" || listOf(form.tags).length > 0) &&
    contextOk &&
    !preview.isPending;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    save.reset();
    preview.mutate(requestOf(form, madRoot));
  };
  const files = preview.data?.files ?? [];

  const commonFields = (
    <>
      <Field id={ids("registry")} label="Registry mirror">
        <input
          id={ids("registry")}
          value={form.registry}
          onChange={(event) => set({ registry: event.target.value })}
          placeholder="the manifest's registry"
          spellCheck={false}
        />
      </Field>
      <div className="field-row">
        <Field id={ids("timeout")} label="Timeout (s)">
          <input
            id={ids("timeout")}
            inputMode="numeric"
            value={form.timeout}
            onChange={(event) => set({ timeout: event.target.value })}
            placeholder="7200 (0: none)"
          />
        </Field>
        <Field id={ids("gpus")} label="GPUs per node">
          <input
            id={ids("gpus")}
            inputMode="numeric"
            value={form.gpusPerNode}
            onChange={(event) => set({ gpusPerNode: event.target.value })}
            placeholder="from the context"
          />
        </Field>
      </div>
    </>
  );

  return (
    <div className="screen export-screen">
      <header className="screen-header">
        <h2>Export</h2>
      </header>
      <div className="export-layout">
        <form className="panel export-form" onSubmit={submit} aria-label="Export a manifest">
          <Field id={ids("target")} label="Target">
            <select
              id={ids("target")}
              value={form.target}
              onChange={(event) => {
                preview.reset();
                save.reset();
                set({ target: event.target.value as ExportTarget });
              }}
            >
              {TARGETS.map((target) => (
                <option key={target.id} value={target.id}>
                  {target.label}
                </option>
              ))}
            </select>
          </Field>
          {needsManifest ? (
            <Field id={ids("manifest")} label="Manifest file">
              <input
                id={ids("manifest")}
                list={ids("manifests")}
                value={form.manifestFile}
                onChange={(event) => set({ manifestFile: event.target.value })}
                placeholder="path to build_manifest.json"
                spellCheck={false}
                autoComplete="off"
              />
              <datalist id={ids("manifests")}>
                {manifests.map((file) => (
                  <option key={file} value={file} />
                ))}
              </datalist>
            </Field>
          ) : (
            <Field id={ids("tags")} label="Tags">
              <input
                id={ids("tags")}
                value={form.tags}
                onChange={(event) => set({ tags: event.target.value })}
                placeholder="e.g. dummies (space or comma separated)"
                spellCheck={false}
              />
            </Field>
          )}
          {form.target === "ansible" ? (
            <fieldset>
              <legend>Ansible</legend>
              <Field id={ids("mode")} label="Mode">
                <select
                  id={ids("mode")}
                  value={form.mode}
                  onChange={(event) => set({ mode: event.target.value as ExportForm["mode"] })}
                >
                  <option value="containers">containers (hosts need Docker and Python 3)</option>
                  <option value="madengine-cli">madengine-cli (run madengine-cli on each host)</option>
                </select>
              </Field>
              <Field id={ids("nodes")} label="Nodes file (for inventory.ini)">
                <input
                  id={ids("nodes")}
                  value={form.nodesFile}
                  onChange={(event) => set({ nodesFile: event.target.value })}
                  placeholder="none: bring your own inventory"
                  spellCheck={false}
                />
              </Field>
              <div className="field checkbox">
                <input
                  id={ids("cfg")}
                  type="checkbox"
                  checked={form.withAnsibleCfg}
                  onChange={(event) => set({ withAnsibleCfg: event.target.checked })}
                />
                <label htmlFor={ids("cfg")}>Also write ansible.cfg</label>
              </div>
              {commonFields}
            </fieldset>
          ) : null}
          {form.target === "k8s" ? (
            <fieldset>
              <legend>Kubernetes</legend>
              <div className="field-row">
                <Field id={ids("namespace")} label="Namespace">
                  <input
                    id={ids("namespace")}
                    value={form.namespace}
                    onChange={(event) => set({ namespace: event.target.value })}
                    placeholder="madengine"
                    spellCheck={false}
                  />
                </Field>
                <Field id={ids("pull")} label="Image pull secret">
                  <input
                    id={ids("pull")}
                    value={form.imagePullSecret}
                    onChange={(event) => set({ imagePullSecret: event.target.value })}
                    placeholder="none"
                    spellCheck={false}
                  />
                </Field>
              </div>
              <Field id={ids("selectors")} label="Node selectors (key=value, one per line)">
                <textarea
                  id={ids("selectors")}
                  rows={2}
                  value={form.nodeSelectors}
                  onChange={(event) => set({ nodeSelectors: event.target.value })}
                  placeholder="gpu=mi300x"
                  spellCheck={false}
                />
              </Field>
              <div className="field-row">
                <Field id={ids("cpuRequest")} label="CPU request">
                  <input
                    id={ids("cpuRequest")}
                    value={form.cpuRequest}
                    onChange={(event) => set({ cpuRequest: event.target.value })}
                    placeholder="e.g. 4 or 500m"
                  />
                </Field>
                <Field id={ids("cpuLimit")} label="CPU limit">
                  <input
                    id={ids("cpuLimit")}
                    value={form.cpuLimit}
                    onChange={(event) => set({ cpuLimit: event.target.value })}
                  />
                </Field>
              </div>
              <div className="field-row">
                <Field id={ids("memRequest")} label="Memory request">
                  <input
                    id={ids("memRequest")}
                    value={form.memoryRequest}
                    onChange={(event) => set({ memoryRequest: event.target.value })}
                    placeholder="e.g. 16Gi"
                  />
                </Field>
                <Field id={ids("memLimit")} label="Memory limit">
                  <input
                    id={ids("memLimit")}
                    value={form.memoryLimit}
                    onChange={(event) => set({ memoryLimit: event.target.value })}
                  />
                </Field>
              </div>
              {commonFields}
            </fieldset>
          ) : null}
          {form.target === "slurm" ? (
            <fieldset>
              <legend>Slurm</legend>
              <div className="field-row">
                <Field id={ids("script")} label="Script name">
                  <input
                    id={ids("script")}
                    value={form.scriptName}
                    onChange={(event) => set({ scriptName: event.target.value })}
                    placeholder="madengine_slurm.sh"
                    spellCheck={false}
                  />
                </Field>
                <Field id={ids("partition")} label="Partition">
                  <input
                    id={ids("partition")}
                    value={form.partition}
                    onChange={(event) => set({ partition: event.target.value })}
                    placeholder="the default"
                  />
                </Field>
              </div>
              {commonFields}
            </fieldset>
          ) : null}
          <Field
            id={ids("context")}
            label={needsManifest ? "Context overrides (JSON, optional)" : "Context (JSON)"}
          >
            <textarea
              id={ids("context")}
              rows={3}
              value={form.context}
              onChange={(event) => set({ context: event.target.value })}
              placeholder='{"gpu_vendor": "AMD", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 8}}'
              spellCheck={false}
              aria-invalid={contextError ? true : undefined}
            />
          </Field>
          {contextError ? (
            <p className="field-error" data-testid="export-context-error">
              {contextError.message}
            </p>
          ) : null}
          {preview.error ? (
            <ErrorPanel compact title="Cannot export with these options" error={preview.error} />
          ) : null}
          <button type="submit" className="primary" disabled={!ready}>
            {preview.isPending ? "Generating…" : "Preview"}
          </button>
        </form>
        <section className="export-preview" aria-label="Preview">
          {preview.data ? (
            <>
              <section className="panel export-save" aria-label="Save">
                {desktop ? (
                  <form
                    className="field-row"
                    onSubmit={(event) => {
                      event.preventDefault();
                      if (outputDir.trim() === "") return;
                      save.mutate({ ...requestOf(form, madRoot), outputDir: outputDir.trim() });
                    }}
                  >
                    <div className="field grow">
                      <label htmlFor={ids("out")}>Output directory</label>
                      <input
                        id={ids("out")}
                        value={outputDir}
                        onChange={(event) => setOutputDir(event.target.value)}
                        placeholder="a folder on this machine"
                        spellCheck={false}
                      />
                    </div>
                    <button type="button" className="align-end" onClick={() => pick.mutate()}>
                      Browse…
                    </button>
                    <button
                      type="submit"
                      className="primary align-end"
                      disabled={outputDir.trim() === "" || save.isPending}
                    >
                      {save.isPending ? "Saving…" : "Save"}
                    </button>
                  </form>
                ) : (
                  <button type="button" className="primary" onClick={() => files.forEach(download)}>
                    Download {files.length === 1 ? files[0]!.name : `all ${files.length} files`}
                  </button>
                )}
                {save.error ? <ErrorPanel compact title="Not saved" error={save.error} /> : null}
                {save.data ? (
                  <p className="export-written" data-testid="export-written">
                    Wrote {save.data.written.join(", ")}
                  </p>
                ) : null}
              </section>
              {preview.data.notes.length > 0 ? (
                <ul className="export-notes" aria-label="Notes">
                  {preview.data.notes.map((note) => (
                    <li key={note}>{note}</li>
                  ))}
                </ul>
              ) : null}
              {files.map((file) => (
                <article key={file.name} className="panel export-file" aria-label={file.name}>
                  <header className="export-file-header">
                    <h3>
                      <code>{file.name}</code> <span className="muted">{file.language}</span>
                    </h3>
                    {desktop ? null : (
                      <button
                        type="button"
                        onClick={() => download(file)}
                        aria-label={`Download ${file.name}`}
                      >
                        Download
                      </button>
                    )}
                  </header>
                  <CodeView file={file} />
                </article>
              ))}
            </>
          ) : (
            <EmptyState title="Nothing to preview yet.">
              <p>
                Choose a target and a manifest, fill in the options, then Preview: the generated files appear
                here.
              </p>
            </EmptyState>
          )}
        </section>
      </div>
    </div>
  );
}
