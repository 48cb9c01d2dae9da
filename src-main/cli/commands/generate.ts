/**
 * `madengine-cli generate ansible | k8s | slurm` and `madengine-cli export-config`. Only commander
 * and the option helpers load with the CLI; each action imports its engine module when it runs.
 */
import path from "node:path";
import { type Command, Option } from "commander";
import { MadError } from "../../../shared/errors.js";
import { addContextOptions, addVerboseOption, addZooOptions, givenOptions, tagsOf } from "../options.js";

interface ContextFlags {
  additionalContext?: string;
  additionalContextFile?: string;
}

interface GenerateCommonFlags extends ContextFlags {
  manifestFile: string;
  executionConfig?: string;
  madRoot?: string;
  registry?: string;
  timeout?: string;
  gpusPerNode?: string;
  runId?: string;
}

/** A whole-number option; `min` is the smallest value allowed. */
function integerOption(
  value: string | undefined,
  flag: string,
  min: number,
  example: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(number) || number < min) {
    throw new MadError(
      "INVALID_ARGS",
      `${flag} ${JSON.stringify(value)}: expected a whole number${min > 0 ? ` of at least ${min}` : min === 0 ? " of 0 or more" : ""}`,
      { hint: `e.g. ${flag} ${example}` },
    );
  }
  return number;
}

async function contextFor(flags: ContextFlags) {
  const { loadContext } = await import("../../engine/context/loadContext.js");
  const loaded = await loadContext({
    additionalContext: flags.additionalContext,
    additionalContextFile: flags.additionalContextFile,
  });
  const given = flags.additionalContext !== undefined || flags.additionalContextFile !== undefined;
  return { contextOverride: given ? loaded.context : undefined, contextSecretNames: loaded.secretNames };
}

async function commonInputs(flags: GenerateCommonFlags) {
  return {
    manifestFile: flags.manifestFile,
    executionConfigFile: flags.executionConfig,
    madRoot: flags.madRoot ?? process.cwd(),
    registry: flags.registry,
    timeoutSec: integerOption(flags.timeout, "--timeout", 0, "3600 (0: no timeout)"),
    gpusPerNode: integerOption(flags.gpusPerNode, "--gpus-per-node", 1, "8"),
    runId: flags.runId,
    ...(await contextFor(flags)),
  };
}

function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === "" || relative.startsWith("..") ? file : relative;
}

function printNotes(notes: readonly string[]): void {
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
}

function addGenerateCommon(command: Command, what: string): Command {
  command
    .option("-m, --manifest-file <file>", "the build manifest to run", "build_manifest.json")
    .option(
      "-e, --execution-config <file>",
      "an execution config from export-config: its context is merged over the manifest's",
    )
    .option("--mad-root <dir>", `MAD root whose scripts ${what} (default: current directory)`)
    .option(
      "-r, --registry <registry>",
      "pull images from this registry (a mirror) instead of the manifest's",
    )
    .option("--timeout <seconds>", "wall clock per model: 0 none, default 7200; a model's own timeout wins")
    .option(
      "--gpus-per-node <n>",
      'GPUs a node has (for n_gpus "-1"); default: the context\'s MAD_SYSTEM_NGPUS, else 1',
    )
    .option("--run-id <id>", "label the containers (and Kubernetes objects) with this run id");
  return addVerboseOption(addContextOptions(command));
}

export interface GenerateAnsibleFlags extends GenerateCommonFlags {
  output: string;
  inventory?: string;
  mode: "containers" | "madengine-cli";
  withInventory?: boolean;
  nodes?: string;
  withAnsibleCfg?: boolean;
  knownHosts?: string;
}

export async function runGenerateAnsible(flags: GenerateAnsibleFlags): Promise<number> {
  const { generateAnsible } = await import("../../engine/generate/ansible.js");
  const result = await generateAnsible({
    ...(await commonInputs(flags)),
    output: flags.output,
    mode: flags.mode,
    inventory: flags.inventory,
    withInventory: flags.withInventory === true,
    nodesFile: flags.nodes,
    withAnsibleCfg: flags.withAnsibleCfg === true,
    knownHosts: flags.knownHosts,
  });
  printNotes(result.notes);
  process.stdout.write(
    `wrote ${result.files.map(shown).join(", ")} (${result.models} model${result.models === 1 ? "" : "s"}, mode ${result.mode})\n` +
      `run it: ${result.command}\n` +
      "  add -e registry_username=... -e registry_password=... for a registry with a login, -e audit_mode=true to only check\n",
  );
  return 0;
}

export interface GenerateK8sFlags extends GenerateCommonFlags {
  namespace: string;
  outputDir: string;
  nodeSelector?: string[];
  cpuRequest?: string;
  cpuLimit?: string;
  memoryRequest?: string;
  memoryLimit?: string;
  imagePullSecret?: string;
  secretName?: string;
  hostNetwork?: boolean;
}

export async function runGenerateK8s(flags: GenerateK8sFlags): Promise<number> {
  const { generateKubernetes } = await import("../../engine/generate/kubernetes.js");
  const result = await generateKubernetes({
    ...(await commonInputs(flags)),
    namespace: flags.namespace,
    outputDir: flags.outputDir,
    nodeSelectors: flags.nodeSelector ?? [],
    cpuRequest: flags.cpuRequest,
    cpuLimit: flags.cpuLimit,
    memoryRequest: flags.memoryRequest,
    memoryLimit: flags.memoryLimit,
    imagePullSecret: flags.imagePullSecret,
    secretName: flags.secretName,
    hostNetwork: flags.hostNetwork === true,
  });
  printNotes(result.notes);
  const [configFile, jobFile] = result.files.map(shown);
  process.stdout.write(
    `wrote ${configFile} and ${jobFile}: namespace ${result.namespace}, ${result.jobs.length} Job${result.jobs.length === 1 ? "" : "s"} (run ${result.runId})\n` +
      `apply: kubectl apply -f ${configFile} && kubectl apply -f ${jobFile}\n` +
      `watch: kubectl -n ${result.namespace} get jobs -l madengine/run-id=${result.runId}\n`,
  );
  return 0;
}

export interface GenerateSlurmFlags extends GenerateCommonFlags {
  output: string;
  partition?: string;
}

export async function runGenerateSlurm(flags: GenerateSlurmFlags): Promise<number> {
  const { generateSlurm } = await import("../../engine/generate/slurm.js");
  const result = await generateSlurm({
    ...(await commonInputs(flags)),
    output: flags.output,
    partition: flags.partition,
  });
  printNotes(result.notes);
  process.stdout.write(
    `wrote ${shown(result.file)} (${result.models} model${result.models === 1 ? "" : "s"}); submit: sbatch ${shown(result.file)}\n`,
  );
  return 0;
}

export interface ExportConfigFlags extends ContextFlags {
  madRoot?: string;
  tags?: string[];
  output: string;
}

const NO_EFFECT_IN_EXPORT = [
  "ignoreDeprecated",
  "dataConfig",
  "toolsConfig",
  "sysEnvDetails",
  "forceMirrorLocal",
  "disableSkipGpuArch",
];

export async function runExportConfig(flags: ExportConfigFlags, command: Command): Promise<number> {
  const { exportExecutionConfig } = await import("../../engine/generate/exportConfig.js");
  for (const flag of givenOptions(command, NO_EFFECT_IN_EXPORT)) {
    process.stderr.write(`note: ${flag} has no effect in export-config (it is accepted for compatibility)\n`);
  }
  const result = await exportExecutionConfig({
    madRoot: flags.madRoot ?? process.cwd(),
    tags: tagsOf(flags.tags),
    additionalContext: flags.additionalContext,
    additionalContextFile: flags.additionalContextFile,
    output: flags.output,
  });
  printNotes(result.notes);
  const count = result.config.models.length;
  process.stdout.write(
    `wrote ${shown(result.file)}: ${count} model${count === 1 ? "" : "s"}, ${result.detection}` +
      (result.config.credentials_required.length > 0
        ? `, credentials required: ${result.config.credentials_required.join(", ")}`
        : "") +
      "\n",
  );
  return 0;
}

/** Adds `generate ansible|k8s|slurm` and `export-config` to the program. */
export function registerGenerateCommands(program: Command): void {
  const generate = program
    .command("generate")
    .description("write Ansible, Kubernetes or Slurm files that run a build manifest on other machines")
    .addHelpText(
      "after",
      `
Every generated file runs the same containers as 'madengine-cli run' (the run phase's own options),
with images pinned by digest. Secrets (registry passwords, MAD_SECRETS*) are never written: they
are passed by name and supplied when the files run.

Examples:
  madengine-cli generate ansible -m build_manifest.json --with-inventory --nodes nodes.json --with-ansible-cfg
  madengine-cli generate k8s -m build_manifest.json -n benchmarks --gpus-per-node 8 --image-pull-secret regcred
  madengine-cli generate slurm -m build_manifest.json -o run.sbatch`,
    );

  const ansible = generate
    .command("ansible")
    .description("write an Ansible playbook that runs the manifest on every host of the group gpu_nodes")
    .option("-o, --output <file>", "the playbook to write", "madengine_distributed.yml")
    .addOption(
      new Option(
        "--mode <mode>",
        "containers: hosts need only Docker and Python 3; madengine-cli: run madengine-cli on each host",
      )
        .choices(["containers", "madengine-cli"])
        .default("containers"),
    )
    .option(
      "--inventory <file>",
      "the inventory file (written with --with-inventory; default inventory.ini beside the playbook)",
    )
    .option("--with-inventory", "also write the inventory (group gpu_nodes) from --nodes")
    .option("--nodes <file>", "nodes file for --with-inventory (see madengine-cli nodes)")
    .option("--with-ansible-cfg", "also write ansible.cfg (host key checking on, pipelining, the inventory)")
    .option(
      "--known-hosts <file>",
      "known_hosts for ansible.cfg (default: the nodes' knownHostsFile, else ~/.ssh/known_hosts)",
    );
  addGenerateCommon(ansible, "and data config are copied to the hosts");
  ansible.addHelpText(
    "after",
    `
The playbook (hosts: gpu_nodes) checks Docker, logs in to the registry when registry_username and
registry_password are given (-e, no_log), copies the MAD files (madengine_files.tar.gz, written next to
the playbook) and a small Python helper, pulls each image by digest and checks its id, runs each
model's container with a timeout, parses the results on the host into perf.csv and fetches it to
results/<inventory_hostname>/perf.csv. A failing model or host does not stop the other hosts.
Variables: registry_url (pull from another registry), audit_mode=true (only check and print),
madengine_workspace, madengine_results_dir, madengine_python, madengine_fetch_logs,
madengine_fail_on_model_failure, madengine_docker_host, madengine_path (mode madengine-cli).

Examples:
  madengine-cli generate ansible -m build_manifest.json --with-inventory --nodes nodes.json --with-ansible-cfg
  ansible-playbook madengine_distributed.yml -e registry_username=me -e registry_password=$TOKEN
  ansible-playbook -i inventory.ini madengine_distributed.yml -e audit_mode=true`,
  );
  ansible.action(async (options, command: Command) => {
    process.exitCode = await runGenerateAnsible({ ...command.optsWithGlobals(), ...options });
  });

  const k8s = generate
    .command("k8s")
    .description("write a Namespace, a ConfigMap (manifest + scripts) and one Kubernetes Job per model image")
    .option("-n, --namespace <name>", "namespace of every object", "madengine")
    .option("-o, --output-dir <dir>", "where k8s-madengine-configmap.yaml and k8s-madengine-job.yaml go", ".")
    .option("--node-selector <key=value...>", "schedule the Jobs on nodes with these labels (repeatable)")
    .option("--cpu-request <quantity>", "CPU request per Job, e.g. 4 or 500m")
    .option("--cpu-limit <quantity>", "CPU limit per Job")
    .option("--memory-request <quantity>", "memory request per Job, e.g. 16Gi")
    .option("--memory-limit <quantity>", "memory limit per Job")
    .option("--image-pull-secret <name>", "a docker-registry Secret for pulling the images")
    .option(
      "--secret-name <name>",
      "the Secret holding MAD_SECRETS* and credential values (default madengine-secrets)",
    )
    .option("--host-network", "run the pods on the host network, as docker run --network host does");
  addGenerateCommon(k8s, "are embedded in the ConfigMap");
  k8s.addHelpText(
    "after",
    `
Each Job runs one model: its image pinned by digest, the run phase's in-container script in
/myworkspace (filled from the ConfigMap), activeDeadlineSeconds from the model's timeout or --timeout,
GPUs as amd.com/gpu or nvidia.com/gpu (n_gpus; "-1" means --gpus-per-node), restartPolicy Never,
backoffLimit 0, labels app.kubernetes.io/name=madengine, madengine/run-id and madengine/model.
Every object is validated against the Kubernetes schemas before anything is written.

Examples:
  madengine-cli generate k8s -m build_manifest.json -n benchmarks --gpus-per-node 8 --node-selector gpu=mi300x
  kubectl apply -f k8s-madengine-configmap.yaml && kubectl apply -f k8s-madengine-job.yaml`,
  );
  k8s.action(async (options, command: Command) => {
    process.exitCode = await runGenerateK8s({ ...command.optsWithGlobals(), ...options });
  });

  const slurm = generate
    .command("slurm")
    .description("write an sbatch script: one step per model, results in perf.csv")
    .option("-o, --output <file>", "the script to write", "madengine_slurm.sh")
    .option("--partition <name>", "sbatch --partition");
  addGenerateCommon(slurm, "are read from (on a shared file system)");
  slurm.addHelpText(
    "after",
    `
The script pulls each image by digest, checks its id and runs the model's container with the run
phase's options and a timeout (an srun step inside an allocation), then writes perf.csv in
$MADENGINE_WORKSPACE (default ./madengine_slurm). It also runs with plain bash.

Example:
  madengine-cli generate slurm -m build_manifest.json --partition gpu && sbatch madengine_slurm.sh`,
  );
  slurm.action(async (options, command: Command) => {
    process.exitCode = await runGenerateSlurm({ ...command.optsWithGlobals(), ...options });
  });

  // usage errors in these nested commands reach the caller as CommanderError (main.ts maps them to
  // exit 4, and --help to 0) instead of ending the process from inside commander
  for (const command of [ansible, k8s, slurm]) command.exitOverride();

  const exportConfig = program
    .command("export-config")
    .description(
      "write execution_config.json: the selected models, the runtime context and the credentials needed",
    )
    .option("-o, --output <file>", "where to write it", "execution_config.json")
    .option("--ignore-deprecated", "accepted for compatibility (no effect)")
    .option("--data-config <file>", "accepted for compatibility (no effect)")
    .option("--tools-config <file>", "accepted for compatibility (no effect)")
    .option("--sys-env-details", "accepted for compatibility (no effect)")
    .option("--no-sys-env-details", "accepted for compatibility (no effect)")
    .option("--force-mirror-local <dir>", "accepted for compatibility (no effect)")
    .option("--disable-skip-gpu-arch", "accepted for compatibility (no effect)");
  addVerboseOption(addContextOptions(addZooOptions(exportConfig)));
  exportConfig.addHelpText(
    "after",
    `
The context's gpu_vendor (and MAD_SYSTEM_* facts) come from -c/-f, or from this host's GPUs when the
context names no vendor (gpu_vendor NONE on a machine without GPUs). MAD_SECRETS* values are left
out, and credentials_required lists credential names only. generate ansible|k8s|slurm read the file
with --execution-config.

Example:
  madengine-cli export-config --tags dummies -c '{"gpu_vendor": "AMD", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 8}}'`,
  );
  exportConfig.action(async (options, command: Command) => {
    process.exitCode = await runExportConfig({ ...command.optsWithGlobals(), ...options }, command);
  });
}
