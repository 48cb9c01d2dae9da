// Benchmark: one manifest on the testbed's SSH nodes, two ways:
//  1. madengine-cli run --manifest-file M --nodes nodes.json (our agentless dispatch over SSH)
//  2. the playbook from generate ansible, run by ansible-playbook with its default forks (5)
// Both pull by digest, copy the MAD files, run every model on every node and bring back perf.csv.
// Prints wall times (median of 3 after one warm-up run each) and the ratio. Target: dispatch >= 5x
// faster. Figures only, no assertions.
// Needs: npm run build, bash test/env/testbed-up.sh, ansible-playbook. Usage: node bench/ansible-vs-dispatch.mjs [runs]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchWorkspace, printRows, timeProcess } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const testbed = JSON.parse(
  readFileSync(path.join(process.env.MADENGINE_TESTBED ?? "/tmp/madengine-testbed", "testbed.json"), "utf8"),
);
const runs = Number(process.argv[2] ?? 3);
const cli = path.join(repo, "bin", "madengine-cli");
const tags = ["dummies"];

const { zoo, out } = benchWorkspace(repo, "madengine-bench-gen-");
const env = { DOCKER_HOST: testbed.dockerHost, NO_COLOR: "1" };

try {
  timeProcess(
    process.execPath,
    [
      cli,
      "build",
      "--mad-root",
      zoo,
      "--tags",
      ...tags,
      "-c",
      '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}',
      "--registry",
      testbed.registry,
    ],
    { runs: 1, warmup: 0, cwd: out, env },
  );
  const manifest = path.join(out, "build_manifest.json");
  const nodes = testbed.nodes.map((node) => ({
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    identityFile: node.privateKeyPath,
    dockerSocket: testbed.dockerSocket,
    knownHostsFile: testbed.knownHostsPath,
  }));
  const nodesFile = path.join(out, "nodes.json");
  writeFileSync(nodesFile, JSON.stringify({ version: 1, nodes }, null, 2));

  const { generateAnsible } = await import(
    path.join(repo, "dist", "src-main", "engine", "generate", "ansible.js")
  );
  const playbookDir = path.join(out, "ansible");
  await generateAnsible({
    manifestFile: manifest,
    madRoot: zoo,
    output: path.join(playbookDir, "madengine_distributed.yml"),
    withInventory: true,
    nodesFile,
    withAnsibleCfg: true,
  });
  const home = path.join(out, "ansible-home");
  for (const dir of ["", "local-tmp", "remote-tmp"]) mkdirSync(path.join(home, dir), { recursive: true });
  const ansibleEnv = {
    HOME: home,
    ANSIBLE_CONFIG: path.join(playbookDir, "ansible.cfg"),
    ANSIBLE_LOCAL_TEMP: path.join(home, "local-tmp"),
    ANSIBLE_REMOTE_TEMP: path.join(home, "remote-tmp"),
    ANSIBLE_NOCOLOR: "1",
  };
  const dispatchDir = path.join(out, "dispatch");
  mkdirSync(dispatchDir);

  const models = JSON.parse(readFileSync(manifest, "utf8"));
  console.log(
    `manifest: ${Object.keys(models.built_images).length} images (--tags ${tags.join(" ")}); ${nodes.length} nodes; ${runs} measured runs after 1 warm-up`,
  );
  const dispatch = timeProcess(
    process.execPath,
    [cli, "run", "--mad-root", zoo, "--manifest-file", manifest, "--nodes", nodesFile],
    { runs, warmup: 1, cwd: dispatchDir, env },
  );
  const ansible = timeProcess("ansible-playbook", ["madengine_distributed.yml"], {
    runs,
    warmup: 1,
    cwd: playbookDir,
    env: ansibleEnv,
  });
  const ratio = ansible.median / dispatch.median;
  printRows([
    { name: "madengine-cli run --nodes (SSH dispatch)", ...dispatch },
    { name: "ansible-playbook (generated, forks 5)", ...ansible, ratio, target: ">= 5x", ok: ratio >= 5 },
  ]);
  console.log(`dispatch is ${ratio.toFixed(2)}x faster than the generated playbook`);
} finally {
  rmSync(zoo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
