/**
 * Generated files against real tools: the Ansible playbook is run by ansible-playbook against the
 * testbed's sshd nodes (host keys checked), the Slurm script by bash, and a Kubernetes Job's
 * containers by Docker with the ConfigMap laid out as the kubelet mounts it.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { PERF_CSV_HEADER } from "../../shared/schemas/perf.js";
import { generateAnsible } from "../../src-main/engine/generate/ansible.js";
import { generateKubernetes } from "../../src-main/engine/generate/kubernetes.js";
import { generateSlurm } from "../../src-main/engine/generate/slurm.js";
import { parseCsv } from "../../src-main/engine/run/results/csv.js";
import { copyBundledZoo, runCli } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { repoPath } from "../helpers/tempDir.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const TAGS = ["dummies", "failing", "sleepy"];
/** One perf.csv row per model, and per CSV row of dummy_multi. */
const EXPECTED_ROWS: Record<string, string> = {
  dummy: "SUCCESS",
  dummy_multi_1: "SUCCESS",
  dummy_multi_2: "SUCCESS",
  dummy_multi_3: "SUCCESS",
  dummy_fail: "FAILURE",
  dummy_sleep: "FAILURE",
  dummy_args: "SUCCESS",
  "family/model_a": "SUCCESS",
  "family/model_b": "SUCCESS",
  "dynamic/gen_small": "SUCCESS",
  "dynamic/gen_large": "SUCCESS",
};

let testbed: Testbed;
let docker: Docker;
let zoo: string;
let work: string;
let manifest: string;
let playbookDir: string;
const cleanup: string[] = [];

beforeAll(async () => {
  testbed = loadTestbed();
  docker = new Docker({ socketPath: testbed.dockerSocket });
  zoo = copyBundledZoo();
  work = `${zoo}-gen`;
  mkdirSync(work);
  cleanup.push(zoo, work);
  const built = await runCli(
    ["build", "--mad-root", zoo, "--tags", ...TAGS, "-c", UBUNTU, "--registry", testbed.registry],
    { cwd: work, env: { DOCKER_HOST: testbed.dockerHost }, timeoutMs: 180_000 },
  );
  expect(built.code, built.stderr).toBe(0);
  manifest = path.join(work, "build_manifest.json");
  playbookDir = path.join(work, "ansible");
  const nodesFile = writeNodesFile(work, testbedNodes(testbed));
  await generateAnsible({
    manifestFile: manifest,
    madRoot: zoo,
    output: path.join(playbookDir, "madengine_distributed.yml"),
    withInventory: true,
    nodesFile,
    withAnsibleCfg: true,
    runId: "gen-it",
  });
}, 240_000);

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  // the playbooks' default workspace on each node (~/madengine_distributed)
  for (const node of testbed?.nodes ?? []) {
    rmSync(path.join(testbed.dir, "nodes", node.name, "home", "madengine_distributed"), {
      recursive: true,
      force: true,
    });
  }
});

interface Played {
  code: number | null;
  out: string;
}

/** Runs ansible-playbook with a private HOME and temp dirs; host keys checked against the testbed's known_hosts. */
function ansible(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Played> {
  const home = path.join(dir, ".home");
  for (const sub of ["", "local-tmp", "remote-tmp"]) mkdirSync(path.join(home, sub), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn("ansible-playbook", args, {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANSIBLE_CONFIG: path.join(dir, "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP: path.join(home, "local-tmp"),
        ANSIBLE_REMOTE_TEMP: path.join(home, "remote-tmp"),
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_HOST_KEY_CHECKING: "True",
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 280_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function recap(out: string): Record<string, Record<string, number>> {
  const hosts: Record<string, Record<string, number>> = {};
  const section = out.slice(out.lastIndexOf("PLAY RECAP"));
  for (const match of section.matchAll(/^(\S+)\s+:\s+(.*)$/gm)) {
    hosts[match[1]!] = Object.fromEntries(
      [...match[2]!.matchAll(/(\w+)=(\d+)/g)].map((field) => [field[1]!, Number(field[2])]),
    );
  }
  return hosts;
}

/** Task name -> how many hosts (or items) it changed. */
function changedByTask(out: string): Map<string, number> {
  const changed = new Map<string, number>();
  let task = "";
  for (const line of out.split("\n")) {
    const header = /^TASK \[(.*)\] \*+$/.exec(line);
    if (header) {
      task = header[1]!;
      changed.set(task, changed.get(task) ?? 0);
    } else if (line.startsWith("changed: ")) changed.set(task, (changed.get(task) ?? 0) + 1);
  }
  return changed;
}

function perfFile(file: string): { header: string; rows: Record<string, string>[] } {
  const text = readFileSync(file, "utf8");
  const [header, ...rows] = parseCsv(text.trimEnd());
  return {
    header: text.split("\n")[0]!,
    rows: rows.map((row) => Object.fromEntries(header!.map((name, index) => [name, row[index] ?? ""]))),
  };
}

function checkNodeResults(resultsDir: string, node: string): void {
  const dir = path.join(resultsDir, node);
  const { header, rows } = perfFile(path.join(dir, "perf.csv"));
  expect(header).toBe(PERF_CSV_HEADER);
  expect(Object.fromEntries(rows.map((row) => [row.model, row.status]))).toEqual(EXPECTED_ROWS);
  expect(rows).toHaveLength(Object.keys(EXPECTED_ROWS).length);
  for (const row of rows) expect(row.machine_name).toBe(node);
  const byModel = Object.fromEntries(rows.map((row) => [row.model, row]));
  expect(byModel["dynamic/gen_large"]!.performance).toBe("300");
  expect(byModel.dummy!.metric).toBe("samples_per_second");
  expect(Number(byModel.dummy!.performance)).toBeGreaterThan(0);
  expect(byModel.dummy_multi_2!.metric).toBe("samples_per_sec");
  // killed by its 3 s timeout (the clock starts before the container does, so a loaded machine reads less)
  expect(Number(byModel.dummy_sleep!.test_duration)).toBeGreaterThanOrEqual(2);
  expect(Number(byModel.dummy_sleep!.test_duration)).toBeLessThan(10);
  // flat: perf.csv and the model logs, no nested folders
  for (const name of readdirSync(dir)) expect(statSync(path.join(dir, name)).isFile()).toBe(true);
  expect(readFileSync(path.join(dir, "dummy_fail_dummy.ubuntu.none.run.live.log"), "utf8")).toContain(
    "intentional failure",
  );
}

describe("generate ansible: the playbook runs on the testbed's SSH nodes", () => {
  it("passes --syntax-check, runs every model on every node and fetches each node's perf.csv", async () => {
    const check = await ansible(playbookDir, ["--syntax-check", "madengine_distributed.yml"]);
    expect(check.code, check.out).toBe(0);
    const played = await ansible(playbookDir, [
      "madengine_distributed.yml",
      "-e",
      "madengine_fail_on_model_failure=false",
    ]);
    expect(played.code, played.out.slice(-4000)).toBe(0);
    const hosts = recap(played.out);
    expect(Object.keys(hosts).sort()).toEqual(testbed.nodes.map((node) => node.name).sort());
    for (const node of testbed.nodes) {
      expect(hosts[node.name]).toMatchObject({ failed: 0, unreachable: 0 });
      checkNodeResults(path.join(playbookDir, "results"), node.name);
    }
    const left = await docker.listContainers({
      all: true,
      filters: { label: ["org.madengine.run-id=gen-it"] },
    });
    expect(left).toEqual([]);
  }, 300_000);

  it("is idempotent: a second run changes none of the setup and still succeeds", async () => {
    const played = await ansible(playbookDir, [
      "madengine_distributed.yml",
      "-e",
      "madengine_fail_on_model_failure=false",
    ]);
    expect(played.code, played.out.slice(-4000)).toBe(0);
    const changed = changedByTask(played.out);
    for (const task of [
      "Create the workspace",
      "Create the MAD root and results folders in the workspace",
      "Install the host helper (Python 3, standard library only)",
      "Write the run plan",
      "Copy the MAD files (models, scripts, data config) from the tarball next to the playbook",
      "Pull each image by digest",
      "Verify each pulled image's id against the manifest",
    ]) {
      expect(changed.get(task), task).toBe(0);
    }
    for (const node of testbed.nodes) checkNodeResults(path.join(playbookDir, "results"), node.name);
  }, 300_000);

  it("fails the run when a model fails unless told otherwise (madengine_fail_on_model_failure)", async () => {
    const played = await ansible(playbookDir, ["madengine_distributed.yml", "-l", "node1"]);
    expect(played.code).toBe(2);
    expect(played.out).toContain("failed models: dummy_fail, dummy_sleep");
    checkNodeResults(path.join(playbookDir, "results"), "node1");
  }, 300_000);

  it("keeps going when a host is down: the others finish and fetch their perf.csv", async () => {
    const dir = path.join(work, "dead-host");
    mkdirSync(dir, { recursive: true });
    for (const name of ["madengine_distributed.yml", "madengine_files.tar.gz", "ansible.cfg"]) {
      writeFileSync(path.join(dir, name), readFileSync(path.join(playbookDir, name)));
    }
    const inventory = readFileSync(path.join(playbookDir, "inventory.ini"), "utf8").replace(
      "[gpu_nodes]\n",
      `[gpu_nodes]\nnode_down ansible_host=127.0.100.250 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=${testbed.privateKeyPath}\n`,
    );
    writeFileSync(path.join(dir, "inventory.ini"), inventory);
    const played = await ansible(dir, [
      "madengine_distributed.yml",
      "-l",
      "node_down,node1,node2",
      "-e",
      "madengine_fail_on_model_failure=false",
    ]);
    expect(played.code).not.toBe(0);
    const hosts = recap(played.out);
    expect(hosts.node_down).toMatchObject({ unreachable: 1, ok: 0 });
    for (const node of ["node1", "node2"]) {
      expect(hosts[node]).toMatchObject({ failed: 0, unreachable: 0 });
      checkNodeResults(path.join(dir, "results"), node);
    }
    expect(existsSync(path.join(dir, "results", "node_down"))).toBe(false);
  }, 300_000);

  it("audit mode only checks the hosts and prints what would run (registry_url honoured)", async () => {
    const workspace = path.join(work, "audit-workspace-never-made");
    const played = await ansible(playbookDir, [
      "madengine_distributed.yml",
      "-l",
      "node1",
      "-e",
      "audit_mode=true",
      "-e",
      "registry_url=mirror.example:5000",
      "-e",
      `madengine_workspace=${workspace}`,
    ]);
    expect(played.code, played.out.slice(-3000)).toBe(0);
    expect(played.out).toMatch(
      /docker pull mirror\.example:5000\/ci-dummy_dummy\.ubuntu\.none@sha256:[0-9a-f]{64}/,
    );
    expect(played.out).toContain("docker run --name container_ci-dummy_dummy.ubuntu.none.node1.ansible");
    expect(recap(played.out).node1).toMatchObject({ changed: 0, failed: 0 });
    expect(existsSync(workspace)).toBe(false);
  }, 120_000);

  it("mode madengine-cli copies the manifest and runs madengine-cli run on the host (madengine_path)", async () => {
    const dir = path.join(work, "cli-mode");
    const nodesFile = writeNodesFile(work, testbedNodes(testbed, { count: 1 }), "one-node.json");
    await generateAnsible({
      manifestFile: manifest,
      madRoot: zoo,
      output: path.join(dir, "pb.yml"),
      mode: "madengine-cli",
      withInventory: true,
      nodesFile,
      withAnsibleCfg: true,
      timeoutSec: 600,
    });
    const played = await ansible(dir, [
      "pb.yml",
      "-e",
      `madengine_path=${repoPath()}`,
      "-e",
      "madengine_fail_on_model_failure=false",
    ]);
    expect(played.code, played.out.slice(-4000)).toBe(0);
    const { header, rows } = perfFile(path.join(dir, "results", "node1", "perf.csv"));
    expect(header).toBe(PERF_CSV_HEADER);
    expect(Object.fromEntries(rows.map((row) => [row.model, row.status]))).toEqual(EXPECTED_ROWS);
  }, 300_000);
});

describe("generate ansible: registry credentials and secrets", () => {
  it("logs in with registry_username/registry_password (no_log) and writes no secret into any file", async () => {
    const { address, username, password } = testbed.authRegistry;
    const secureZoo = copyBundledZoo();
    const dir = `${secureZoo}-out`;
    mkdirSync(dir);
    cleanup.push(secureZoo, dir);
    writeFileSync(
      path.join(secureZoo, "credential.json"),
      JSON.stringify({ [address]: { username, password } }),
    );
    const built = await runCli(
      ["build", "--mad-root", secureZoo, "--tags", "dummy", "-c", UBUNTU, "--registry", address],
      {
        cwd: dir,
        env: { DOCKER_HOST: testbed.dockerHost },
        timeoutMs: 120_000,
      },
    );
    expect(built.code, built.stderr).toBe(0);
    const planted = "planted-mad-secret-value";
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed).slice(2, 3));
    const result = await generateAnsible({
      manifestFile: path.join(dir, "build_manifest.json"),
      madRoot: secureZoo,
      output: path.join(dir, "pb", "madengine_distributed.yml"),
      withInventory: true,
      nodesFile,
      withAnsibleCfg: true,
      contextOverride: { docker_env_vars: { MAD_SECRETS_PLANTED: planted } },
      contextSecretNames: ["MAD_SECRETS_PLANTED"],
    });
    for (const file of result.files) {
      const bytes = readFileSync(file);
      const text = file.endsWith(".gz") ? gunzipSync(bytes).toString("latin1") : bytes.toString("utf8");
      expect(text, file).not.toContain(password);
      expect(text, file).not.toContain(planted);
    }
    const played = await ansible(
      path.join(dir, "pb"),
      [
        "madengine_distributed.yml",
        "-e",
        `registry_username=${username}`,
        "-e",
        `registry_password=${password}`,
      ],
      { MAD_SECRETS_PLANTED: planted },
    );
    expect(played.code, played.out.slice(-3000)).toBe(0);
    expect(played.out).not.toContain(password);
    expect(played.out).not.toContain(planted);
    const node = testbed.nodes[2]!.name;
    const configFile = path.join(testbed.dir, "nodes", node, "home", ".docker", "config.json");
    const config = JSON.parse(readFileSync(configFile, "utf8")) as { auths: Record<string, unknown> };
    expect(Object.keys(config.auths)).toContain(address);
    // log the node out again: the testbed keeps no stored credentials
    delete config.auths[address];
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const { rows } = perfFile(path.join(dir, "pb", "results", node, "perf.csv"));
    expect(rows.map((row) => [row.model, row.status])).toEqual([["dummy", "SUCCESS"]]);
    const log = readFileSync(
      path.join(dir, "pb", "results", node, "dummy_dummy.ubuntu.none.run.live.log"),
      "utf8",
    );
    expect(log).not.toContain(planted);
  }, 300_000);
});

describe("generate slurm and k8s: the generated commands really run", () => {
  it("the sbatch script runs the manifest with plain bash and writes perf.csv", async () => {
    const dir = path.join(work, "slurm");
    const { file } = await generateSlurm({
      manifestFile: manifest,
      madRoot: zoo,
      output: path.join(dir, "run.sbatch"),
    });
    let code = 0;
    try {
      execFileSync("bash", [file], {
        cwd: dir,
        env: { ...process.env, DOCKER_HOST: testbed.dockerHost, MADENGINE_WORKSPACE: path.join(dir, "ws") },
        stdio: "pipe",
        timeout: 240_000,
      });
    } catch (error) {
      code = (error as { status: number }).status;
    }
    expect(code).toBe(3); // dummy_fail and dummy_sleep fail, as in a local run
    const { header, rows } = perfFile(path.join(dir, "ws", "perf.csv"));
    expect(header).toBe(PERF_CSV_HEADER);
    expect(Object.fromEntries(rows.map((row) => [row.model, row.status]))).toEqual(EXPECTED_ROWS);
  }, 300_000);

  it("a Job's init and model containers run the model from the ConfigMap, as the kubelet lays it out", async () => {
    const dir = path.join(work, "k8s");
    await generateKubernetes({ manifestFile: manifest, madRoot: zoo, outputDir: dir, runId: "k8s-it" });
    const [, configMap] = parseAllDocuments(
      readFileSync(path.join(dir, "k8s-madengine-configmap.yaml"), "utf8"),
    ).map((doc) => doc.toJS());
    const jobs = parseAllDocuments(readFileSync(path.join(dir, "k8s-madengine-job.yaml"), "utf8")).map(
      (doc) => doc.toJS(),
    );
    const job = jobs.find(
      (entry) => entry.metadata.annotations["madengine/model-name"] === "dynamic/gen_large",
    )!;
    const pod = job.spec.template.spec;
    // the ConfigMap volume: each item's key at its path (the kubelet adds symlinks; cp -L follows them)
    const config = path.join(dir, "config-volume");
    for (const item of pod.volumes.find((volume: { configMap?: unknown }) => volume.configMap).configMap
      .items) {
      mkdirSync(path.dirname(path.join(config, item.path)), { recursive: true });
      writeFileSync(path.join(config, item.path), configMap.data[item.key], { mode: 0o755 });
    }
    const workspace = path.join(dir, "workspace");
    mkdirSync(workspace, { mode: 0o777 });
    const dockerEnv = { ...process.env, DOCKER_HOST: testbed.dockerHost };
    const init = pod.initContainers[0];
    execFileSync(
      "docker",
      [
        "run",
        "--rm",
        "-u",
        "0",
        "-v",
        `${config}:/madengine/config:ro`,
        "-v",
        `${workspace}:/myworkspace`,
        init.image,
        ...init.command,
      ],
      { env: dockerEnv, stdio: "pipe" },
    );
    expect(existsSync(path.join(workspace, "build_manifest.json"))).toBe(true);
    const container = pod.containers[0];
    const envArgs = container.env.flatMap((entry: { name: string; value?: string }) =>
      entry.value === undefined ? [] : ["--env", `${entry.name}=${entry.value}`],
    );
    const output = execFileSync(
      "docker",
      [
        "run",
        "--rm",
        "-u",
        "0",
        "-w",
        container.workingDir,
        "-v",
        `${workspace}:/myworkspace`,
        ...envArgs,
        container.image,
        ...container.command,
      ],
      { env: dockerEnv, encoding: "utf8" },
    );
    expect(output).toContain("performance: 300 samples_per_second");
    expect(output).toContain("::madengine:: model-end 0");
  }, 120_000);
});
