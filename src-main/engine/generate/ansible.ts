/**
 * `generate ansible`: a playbook that runs a build manifest on every host of `gpu_nodes`.
 *
 * Mode `containers` (default) needs nothing but Docker and Python 3 on the hosts: the playbook checks
 * Docker, logs in to the registry when `registry_username`/`registry_password` are given, copies the
 * MAD files (a tarball next to the playbook) and a small Python helper, pulls every image by digest
 * and verifies its id, runs each model's container with the run phase's own options (argv, never a
 * shell), parses the results on the host into perf.csv and fetches it to
 * `results/<inventory_hostname>/perf.csv`. A failing model or host never stops the other hosts.
 *
 * Mode `madengine-cli` is the original's: copy the manifest and run `madengine-cli run` on each host.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Document, isScalar, visit, type Node as YamlNode } from "yaml";
import { MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import { readNodesFile } from "../remote/inventory/nodesFile.js";
import { ansibleCfg, INVENTORY_GROUP, inventoryFromNodes } from "./ansibleInventory.js";
import { HOST_HELPER_NAME, HOST_PLAN_NAME, hostHelperSource, hostPlanModels } from "./hostHelper.js";
import { type GenerationInputs, loadGenerationInputs } from "./inputs.js";
import { collectMadFiles, madFilesArchive } from "./madFiles.js";
import { MAD_ROOT_PLACEHOLDER, type ModelPlan, planModels } from "./modelPlans.js";

export type AnsibleMode = "containers" | "madengine-cli";
export const DEFAULT_PLAYBOOK = "madengine_distributed.yml";
export const MAD_FILES_ARCHIVE = "madengine_files.tar.gz";

export interface GenerateAnsibleOptions {
  manifestFile: string;
  executionConfigFile?: string | undefined;
  /** The MAD root on this machine (scripts and data config travel to the hosts from here). */
  madRoot: string;
  /** Playbook path (default madengine_distributed.yml). */
  output?: string | undefined;
  mode?: AnsibleMode | undefined;
  /** Inventory path: written with withInventory, referenced by ansible.cfg (default inventory.ini beside the playbook). */
  inventory?: string | undefined;
  withInventory?: boolean;
  /** nodes.json for withInventory. */
  nodesFile?: string | undefined;
  withAnsibleCfg?: boolean;
  /** known_hosts for ansible.cfg (default: the nodes' knownHostsFile, else ~/.ssh/known_hosts). */
  knownHosts?: string | undefined;
  /** Pull from this registry (a mirror) instead of the manifest's. */
  registry?: string | undefined;
  /** --timeout: seconds per model (0 none); a model's own timeout wins. */
  timeoutSec?: number | undefined;
  gpusPerNode?: number | undefined;
  contextOverride?: Context | undefined;
  contextSecretNames?: readonly string[] | undefined;
  runId?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface GenerateAnsibleResult {
  playbook: string;
  files: string[];
  mode: AnsibleMode;
  models: number;
  notes: string[];
  /** The command to run it. */
  command: string;
}

function checkTimeout(timeoutSec: number | undefined): void {
  if (timeoutSec === undefined) return;
  if (!Number.isSafeInteger(timeoutSec) || timeoutSec < 0) {
    throw new MadError("INVALID_ARGS", `--timeout ${timeoutSec}: expected whole seconds, 0 for none`, {
      hint: "e.g. --timeout 3600",
    });
  }
}

const ID_FORMAT = "{{.Id}}";
/** Jinja that yields the image references: the manifest's, or the same paths in `registry_url`. */
const IMAGE_REFS =
  "{{ (madengine_plan.models | map(attribute='reference_path') | map('regex_replace', '^', registry_url ~ '/') | list) if (registry_url | default('', true)) else (madengine_plan.models | map(attribute='reference') | list) }}";
const DOCKER_HOST_ENV =
  "{{ {'DOCKER_HOST': madengine_docker_host} if (madengine_docker_host | default('', true)) else {} }}";

function commonVars(inputs: GenerationInputs, plans: readonly ModelPlan[]): Record<string, unknown> {
  const registry = plans.find((plan) => plan.registry !== "")?.registry ?? inputs.manifest.registry ?? "";
  return {
    mad_workspace: "{{ madengine_workspace | default('~/madengine_distributed', true) }}",
    mad_results_dir: "{{ madengine_results_dir | default(playbook_dir ~ '/results', true) }}",
    mad_python: "{{ madengine_python | default('python3', true) }}",
    mad_audit: "{{ audit_mode | default(false) | bool }}",
    mad_fail_on_model_failure: "{{ madengine_fail_on_model_failure | default(true) | bool }}",
    mad_registry: `{{ registry_url | default('${registry}', true) }}`,
    mad_archive: `{{ playbook_dir }}/${MAD_FILES_ARCHIVE}`,
    mad_placeholder: MAD_ROOT_PLACEHOLDER,
  };
}

function registryLoginTask(): Record<string, unknown> {
  return {
    name: "Log in to the registry (only with registry_username and registry_password)",
    "ansible.builtin.command": {
      argv: "{{ ['docker', 'login', '--username', registry_username, '--password-stdin'] + ([mad_registry] if mad_registry else []) }}",
      stdin: "{{ registry_password }}",
    },
    no_log: true,
    changed_when: false,
    when: "(registry_username | default('', true)) and (registry_password | default('', true))",
  };
}

function workspaceTasks(extraDirs: string[]): Record<string, unknown>[] {
  return [
    {
      name: "Create the workspace",
      "ansible.builtin.file": { path: "{{ mad_workspace }}", state: "directory", mode: "0755" },
      register: "mad_ws",
    },
    { name: "Remember the workspace path", "ansible.builtin.set_fact": { mad_ws_path: "{{ mad_ws.path }}" } },
    {
      name: "Create the MAD root and results folders in the workspace",
      "ansible.builtin.file": { path: "{{ mad_ws_path }}/{{ item }}", state: "directory", mode: "0755" },
      loop: extraDirs,
    },
  ];
}

const CHECK_DOCKER = {
  name: "Check that Docker answers (docker version)",
  "ansible.builtin.command": { argv: ["docker", "version"] },
  changed_when: false,
};

const COPY_MAD_FILES = {
  name: "Copy the MAD files (models, scripts, data config) from the tarball next to the playbook",
  "ansible.builtin.unarchive": { src: "{{ mad_archive }}", dest: "{{ mad_ws_path }}/mad" },
};

const RECORD_FAILURE = {
  name: "Record what failed on this host",
  "ansible.builtin.set_fact": {
    mad_host_error:
      "{{ ansible_failed_task.name | default('a task') }}: {{ ansible_failed_result.msg | default('failed') }} {{ ansible_failed_result.stderr | default('') }}",
  },
};

function containerTasks(plans: readonly ModelPlan[]): Record<string, unknown>[] {
  const loop = "{{ madengine_plan.models }}";
  const loopControl = { index_var: "idx", label: "{{ item.name }}" };
  const hasSecrets = plans.some((plan) => plan.secretEnvNames.length > 0);
  const runArgv =
    "{{ [mad_python, mad_ws_path ~ '/" +
    HOST_HELPER_NAME +
    "', 'run', '--plan', mad_ws_path ~ '/" +
    HOST_PLAN_NAME +
    "', '--index', idx | string, '--workspace', mad_ws_path, '--machine', inventory_hostname, '--image', mad_image_refs[idx]] + mad_image_error" +
    (hasSecrets ? " + ['--secret-env-stdin']" : "") +
    " }}";
  const requiredDevices = [...new Set(plans.flatMap((plan) => plan.requiredDevices))].sort();
  const requiredPaths = [...new Set(plans.flatMap((plan) => plan.requiredPaths))].sort();
  const run: Record<string, unknown> = {
    name: "Run each model's container (the run phase's docker run options; logs and results stay on the host)",
    "ansible.builtin.command": {
      argv: runArgv,
      ...(hasSecrets ? { stdin: "{{ madengine_secret_env | to_json }}" } : {}),
    },
    vars: {
      mad_image_error:
        "{{ [] if (item.skip or mad_verify.results[idx] is succeeded) else ['--image-error', 'image ' ~ mad_image_refs[idx] ~ ' could not be pulled or its id does not match the manifest: ' ~ ((mad_pull.results[idx].stderr_lines | default([])) | last | default('id ' ~ (mad_verify.results[idx].stdout | default('unknown')) ~ ', expected ' ~ (item.image_id | default('?')), true))] }}",
    },
    loop,
    loop_control: loopControl,
    register: "mad_run",
  };
  if (hasSecrets) run.no_log = true;
  return [
    CHECK_DOCKER,
    ...(requiredDevices.length + requiredPaths.length > 0
      ? [
          {
            name: "Look for the GPU devices and data paths the models need",
            "ansible.builtin.stat": { path: "{{ item }}", get_checksum: false },
            loop: [...requiredDevices, ...requiredPaths],
            register: "mad_required",
          },
          {
            name: "Report missing devices and paths (the models that need them fail, the others run)",
            "ansible.builtin.debug": {
              msg: "{{ mad_required.results | rejectattr('stat.exists') | map(attribute='item') | list }}",
            },
            when: "mad_required.results | rejectattr('stat.exists') | list | length > 0",
          },
        ]
      : []),
    {
      name: "Audit mode: what would run on this host (nothing is changed)",
      "ansible.builtin.debug": {
        msg: "{{ item.name }}: docker pull {{ mad_image_refs[idx] }}; docker run --name {{ item.container }}.{{ inventory_hostname }}.{{ item.container_suffix }} {{ item.docker_options | map('regex_replace', '^' ~ mad_placeholder ~ ':', mad_workspace ~ '/mad:') | map('quote') | join(' ') }} {{ mad_image_refs[idx] }} sh -c <in-container script> (timeout {{ item.timeout_sec | default('none', true) }} s){{ ' - SKIPPED: ' ~ item.skip if item.skip else '' }}",
      },
      loop,
      loop_control: loopControl,
      when: "mad_audit",
    },
    { name: "Audit mode: stop here", "ansible.builtin.meta": "end_host", when: "mad_audit" },
    ...workspaceTasks(["mad", "results"]),
    registryLoginTask(),
    {
      name: "Install the host helper (Python 3, standard library only)",
      "ansible.builtin.copy": {
        content: "{{ madengine_host_script }}",
        dest: `{{ mad_ws_path }}/${HOST_HELPER_NAME}`,
        mode: "0755",
      },
    },
    {
      name: "Write the run plan",
      "ansible.builtin.copy": {
        content: "{{ madengine_plan | to_nice_json }}",
        dest: `{{ mad_ws_path }}/${HOST_PLAN_NAME}`,
        mode: "0644",
      },
    },
    COPY_MAD_FILES,
    {
      name: "Pull each image by digest",
      "ansible.builtin.command": { argv: ["docker", "pull", "{{ mad_image_refs[idx] }}"] },
      loop,
      loop_control: loopControl,
      register: "mad_pull",
      changed_when: "'Downloaded newer image' in mad_pull.stdout",
      when: "not item.skip",
      ignore_errors: true,
    },
    {
      name: "Verify each pulled image's id against the manifest",
      "ansible.builtin.command": {
        argv: ["docker", "image", "inspect", "--format", ID_FORMAT, "{{ mad_image_refs[idx] }}"],
      },
      loop,
      loop_control: loopControl,
      register: "mad_verify",
      changed_when: false,
      failed_when: "mad_verify.rc != 0 or (item.image_id and mad_verify.stdout != item.image_id)",
      when: "not item.skip",
      ignore_errors: true,
    },
    run,
    {
      name: "Write this host's perf.csv from the results (machine_name = inventory_hostname)",
      "ansible.builtin.command": {
        argv: [
          "{{ mad_python }}",
          `{{ mad_ws_path }}/${HOST_HELPER_NAME}`,
          "collect",
          "--plan",
          `{{ mad_ws_path }}/${HOST_PLAN_NAME}`,
          "--workspace",
          "{{ mad_ws_path }}",
          "--machine",
          "{{ inventory_hostname }}",
          "--out",
          "{{ mad_ws_path }}/perf.csv",
        ],
      },
      register: "mad_collect",
    },
    {
      name: "Read the summary",
      "ansible.builtin.set_fact": { mad_summary: "{{ mad_collect.stdout | from_json }}" },
    },
  ];
}

function fetchTasks(withLogs: boolean): Record<string, unknown>[] {
  const tasks: Record<string, unknown>[] = [
    {
      name: "Fetch perf.csv to the controller (results/<inventory_hostname>/perf.csv)",
      "ansible.builtin.fetch": {
        src: "{{ mad_ws_path }}/perf.csv",
        dest: "{{ mad_results_dir }}/{{ inventory_hostname }}/perf.csv",
        flat: true,
      },
      when: "mad_summary is defined",
    },
  ];
  if (withLogs) {
    tasks.push({
      name: "Fetch the model logs (results/<inventory_hostname>/<log>)",
      "ansible.builtin.fetch": {
        src: "{{ mad_ws_path }}/results/{{ item.log_name }}",
        dest: "{{ mad_results_dir }}/{{ inventory_hostname }}/{{ item.log_name }}",
        flat: true,
        fail_on_missing: false,
      },
      loop: "{{ madengine_plan.models }}",
      loop_control: { label: "{{ item.name }}" },
      when: "mad_summary is defined and (madengine_fetch_logs | default(true) | bool)",
    });
  }
  return tasks;
}

function finalTasks(): Record<string, unknown>[] {
  return [
    {
      name: "Summary",
      "ansible.builtin.debug": {
        msg: "{{ ('host failed: ' ~ mad_host_error) if mad_host_error is defined else mad_summary | default('no results') }}",
      },
    },
    {
      name: "Fail this host when it or one of its models failed (madengine_fail_on_model_failure)",
      "ansible.builtin.fail": {
        msg: "{{ ('host failed: ' ~ mad_host_error) if mad_host_error is defined else ('failed models: ' ~ (mad_summary.failed | map(attribute='model') | join(', '))) }}",
      },
      when: "mad_host_error is defined or (mad_fail_on_model_failure and (mad_summary.failed | default([]) | length > 0))",
    },
  ];
}

function cliTasks(timeoutSec: number | undefined, hasContext: boolean): Record<string, unknown>[] {
  const argv = [
    "{{ mad_cli }}",
    "run",
    "--manifest-file",
    "{{ mad_ws_path }}/build_manifest.json",
    "--mad-root",
    "{{ mad_ws_path }}/mad",
    "--output",
    "{{ mad_ws_path }}/perf.csv",
    "--summary-output",
    "{{ mad_ws_path }}/execution_summary.json",
    ...(timeoutSec !== undefined ? ["--timeout", String(timeoutSec)] : []),
    ...(hasContext ? ["--additional-context-file", "{{ mad_ws_path }}/context.json"] : []),
  ];
  return [
    CHECK_DOCKER,
    {
      name: "Look at madengine_path (an install directory or the madengine-cli executable)",
      "ansible.builtin.stat": { path: "{{ madengine_path }}", get_checksum: false },
      register: "mad_path",
      when: "madengine_path | default('', true)",
    },
    {
      name: "Choose the madengine-cli to run",
      "ansible.builtin.set_fact": {
        mad_cli:
          "{{ (madengine_path ~ '/bin/madengine-cli') if (mad_path.stat.isdir | default(false)) else (madengine_path | default('madengine-cli', true)) }}",
      },
    },
    {
      name: "Check madengine-cli on the host",
      "ansible.builtin.command": { argv: ["{{ mad_cli }}", "--version"] },
      changed_when: false,
    },
    {
      name: "Audit mode: what would run on this host (nothing is changed)",
      "ansible.builtin.debug": { msg: `{{ mad_cli }} ${argv.slice(1).join(" ")}` },
      when: "mad_audit",
    },
    { name: "Audit mode: stop here", "ansible.builtin.meta": "end_host", when: "mad_audit" },
    ...workspaceTasks(["mad", "out"]),
    registryLoginTask(),
    {
      name: "Copy the build manifest",
      "ansible.builtin.copy": {
        content: "{{ madengine_manifest | to_nice_json }}",
        dest: "{{ mad_ws_path }}/build_manifest.json",
        mode: "0644",
      },
    },
    ...(hasContext
      ? [
          {
            name: "Copy the context override",
            "ansible.builtin.copy": {
              content: "{{ madengine_context | to_nice_json }}",
              dest: "{{ mad_ws_path }}/context.json",
              mode: "0644",
            },
          },
        ]
      : []),
    COPY_MAD_FILES,
    {
      name: "Start a fresh perf.csv",
      "ansible.builtin.file": { path: "{{ mad_ws_path }}/perf.csv", state: "absent" },
      changed_when: false,
    },
    {
      name: "Run the manifest with madengine-cli",
      "ansible.builtin.command": { argv, chdir: "{{ mad_ws_path }}/out" },
      register: "mad_cli_run",
      failed_when: "mad_cli_run.rc not in [0, 3]",
    },
    {
      name: "Read the execution summary",
      "ansible.builtin.slurp": { src: "{{ mad_ws_path }}/execution_summary.json" },
      register: "mad_execution",
    },
    {
      name: "Read the outcome",
      "ansible.builtin.set_fact": {
        mad_summary: {
          exit_code: "{{ mad_cli_run.rc }}",
          successful:
            "{{ (mad_execution.content | b64decode | from_json).successful_runs | map(attribute='model') | list }}",
          failed: "{{ (mad_execution.content | b64decode | from_json).failed_runs }}",
        },
      },
    },
  ];
}

/** Marks every string scalar under `node` as `!unsafe`, so Ansible never templates the data in it. */
function markUnsafe(node: YamlNode | null | undefined): void {
  if (!node) return;
  if (isScalar(node)) {
    if (typeof node.value === "string") node.tag = "!unsafe";
    return;
  }
  visit(node, {
    Scalar(key, scalar) {
      if (key !== "key" && typeof scalar.value === "string") scalar.tag = "!unsafe";
    },
  });
}

function playbookHeader(
  inputs: GenerationInputs,
  mode: AnsibleMode,
  plans: readonly ModelPlan[],
  playbookName: string,
): string {
  const secrets = [...new Set(plans.flatMap((plan) => plan.secretEnvNames))];
  return [
    ` madengine playbook, written by madengine-cli generate ansible (mode: ${mode})`,
    ` manifest: ${path.basename(inputs.manifestFile)}; ${plans.length} model(s); hosts: group ${INVENTORY_GROUP}`,
    "",
    ` Run:   ansible-playbook -i inventory.ini ${playbookName}`,
    " Vars (-e or inventory):",
    "   registry_username / registry_password  log in to the registry first (no_log; never stored here)",
    "   registry_url        pull from this registry instead of the manifest's (same repository paths)",
    "   audit_mode=true     only check the hosts and print what would run",
    "   madengine_workspace (~/madengine_distributed)  madengine_results_dir (<playbook dir>/results)",
    "   madengine_python (python3)  madengine_fetch_logs (true)  madengine_fail_on_model_failure (true)",
    "   madengine_docker_host  DOCKER_HOST for the docker CLI on that host",
    ...(mode === "madengine-cli"
      ? ["   madengine_path      madengine-cli executable, or its install directory"]
      : []),
    ...(secrets.length > 0 && mode === "containers"
      ? [
          ` Secrets are passed by name only; export them on the controller before running: ${secrets.join(" ")}`,
        ]
      : []),
    ...(secrets.length > 0 && mode === "madengine-cli"
      ? [" madengine-cli on each host reads MAD_SECRETS* and credential.json there (none are copied)."]
      : []),
    " Results: results/<inventory_hostname>/perf.csv (and the model logs) on the controller.",
  ].join("\n");
}

/** Builds the playbook text (and the data it needs) without writing anything. */
export async function buildAnsiblePlaybook(
  options: GenerateAnsibleOptions,
): Promise<{ text: string; inputs: GenerationInputs; plans: ModelPlan[]; mode: AnsibleMode }> {
  const mode = options.mode ?? "containers";
  if (mode !== "containers" && mode !== "madengine-cli") {
    throw new MadError("INVALID_ARGS", `--mode ${String(mode)}: expected containers or madengine-cli`, {
      hint: "containers needs only Docker and Python 3 on the hosts; madengine-cli needs madengine-cli installed there",
    });
  }
  checkTimeout(options.timeoutSec);
  const inputs = await loadGenerationInputs(options);
  const plans = await planModels(inputs, {
    madRoot: options.madRoot,
    timeoutSec: options.timeoutSec,
    registry: options.registry,
    runId: options.runId,
    env: options.env ?? process.env,
  });
  if (plans.length === 0) {
    throw new MadError("INVALID_FILE", `${options.manifestFile}: the manifest has no images to run`, {
      hint: "build models first with madengine-cli build --tags ...",
    });
  }
  const vars: Record<string, unknown> = { ...commonVars(inputs, plans) };
  let tasks: Record<string, unknown>[];
  if (mode === "containers") {
    vars.mad_image_refs = IMAGE_REFS;
    const secrets = [...new Set(plans.flatMap((plan) => plan.secretEnvNames))].sort();
    if (secrets.length > 0)
      vars.madengine_secret_env = Object.fromEntries(
        secrets.map((name) => [name, `{{ lookup('env', '${name}') }}`]),
      );
    vars.madengine_plan = {
      version: 1,
      run_id: options.runId ?? null,
      manifest: path.basename(inputs.manifestFile),
      models: hostPlanModels(plans, "ansible"),
    };
    vars.madengine_host_script = hostHelperSource();
    tasks = containerTasks(plans);
  } else {
    vars.madengine_manifest = inputs.manifest;
    const override = options.contextOverride;
    if (override && Object.keys(override).length > 0) {
      const { docker_env_vars, docker_build_arg, ...rest } = override;
      vars.madengine_context = {
        ...rest,
        ...(docker_env_vars
          ? {
              docker_env_vars: Object.fromEntries(
                Object.entries(docker_env_vars).filter(([key]) => !key.includes("MAD_SECRETS")),
              ),
            }
          : {}),
        ...(docker_build_arg
          ? {
              docker_build_arg: Object.fromEntries(
                Object.entries(docker_build_arg).filter(([key]) => !key.includes("MAD_SECRETS")),
              ),
            }
          : {}),
      };
    }
    tasks = cliTasks(options.timeoutSec, vars.madengine_context !== undefined);
  }
  const play = {
    name: `madengine: run ${path.basename(inputs.manifestFile)} on ${INVENTORY_GROUP} (${mode})`,
    hosts: INVENTORY_GROUP,
    gather_facts: false,
    any_errors_fatal: false,
    environment: DOCKER_HOST_ENV,
    vars,
    tasks: [
      {
        name: `Run the manifest's models (${mode})`,
        block: tasks,
        rescue: [RECORD_FAILURE],
        always: fetchTasks(mode === "containers"),
      },
      ...finalTasks(),
    ],
  };
  const doc = new Document([play], { aliasDuplicateObjects: false });
  doc.commentBefore = playbookHeader(inputs, mode, plans, path.basename(options.output ?? DEFAULT_PLAYBOOK));
  for (const key of ["madengine_plan", "madengine_host_script", "madengine_manifest", "madengine_context"])
    markUnsafe(doc.getIn([0, "vars", key], true) as YamlNode | undefined);
  visit(doc, {
    Scalar(_key, scalar) {
      if (scalar.value === ID_FORMAT) scalar.tag = "!unsafe";
    },
  });
  const text = doc.toString({ lineWidth: 0 });
  return { text, inputs, plans, mode };
}

async function readKnownHostsDefault(nodesFile: string | undefined): Promise<string | undefined> {
  if (!nodesFile) return undefined;
  const nodes = (await readNodesFile(nodesFile)).nodes;
  const files = [...new Set(nodes.map((node) => node.knownHostsFile).filter((file) => file !== undefined))];
  return files.length > 0 ? files.map((file) => path.resolve(file)).join(" ") : undefined;
}

/** Writes the playbook, the MAD files tarball and, when asked, the inventory and ansible.cfg. */
export async function generateAnsible(options: GenerateAnsibleOptions): Promise<GenerateAnsibleResult> {
  if (options.withInventory && !options.nodesFile) {
    throw new MadError(
      "INVALID_ARGS",
      "--with-inventory needs --nodes <nodes.json> to write the inventory from",
      {
        hint: "e.g. --with-inventory --nodes nodes.json (madengine-cli nodes add/import writes one)",
      },
    );
  }
  const { text, inputs, plans, mode } = await buildAnsiblePlaybook(options);
  const playbook = path.resolve(options.output ?? DEFAULT_PLAYBOOK);
  const dir = path.dirname(playbook);
  const inventory = path.resolve(dir, options.inventory ?? "inventory.ini");
  const nodes = options.withInventory ? (await readNodesFile(options.nodesFile!)).nodes : undefined;
  const files = await collectMadFiles(options.madRoot);
  const archive = await madFilesArchive(files);
  const inventoryText = nodes ? inventoryFromNodes(nodes, options.nodesFile!) : undefined;
  const knownHosts =
    options.knownHosts !== undefined
      ? path.resolve(options.knownHosts)
      : ((await readKnownHostsDefault(options.nodesFile)) ?? "~/.ssh/known_hosts");
  const cfg = options.withAnsibleCfg
    ? ansibleCfg({ inventory: path.relative(dir, inventory) || inventory, knownHosts })
    : undefined;

  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (file: string, content: string | Buffer) => {
    try {
      await writeFile(file, content);
    } catch (error) {
      throw new MadError("INVALID_FILE", `${file}: cannot write: ${(error as Error).message}`, {
        file,
        hint: "check that the directory is writable, or pass another --output",
        cause: error,
      });
    }
    written.push(file);
  };
  await write(playbook, text);
  await write(path.join(dir, MAD_FILES_ARCHIVE), archive);
  if (inventoryText !== undefined) await write(inventory, inventoryText);
  if (cfg !== undefined) await write(path.join(dir, "ansible.cfg"), cfg);
  const shown = (file: string) => {
    const relative = path.relative(process.cwd(), file);
    return relative === "" || relative.startsWith("..") ? file : relative;
  };
  return {
    playbook,
    files: written,
    mode,
    models: plans.length,
    notes: inputs.notes,
    command: `ansible-playbook -i ${inventoryText !== undefined ? shown(inventory) : "<an inventory with the group gpu_nodes>"} ${shown(playbook)}`,
  };
}
