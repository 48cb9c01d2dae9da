/**
 * The Python helper that generated playbooks and Slurm scripts run on each node: its result parsing
 * must agree with the run phase's TypeScript, and its `run` must time out, fail and succeed like a
 * run does. A fake `docker` on PATH stands in for the daemon, so no service is needed.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PERF_CSV_HEADER, type PerfRow } from "../../../shared/schemas/perf.js";
import { hostHelperSource, hostPlanModels } from "../../../src-main/engine/generate/hostHelper.js";
import { loadGenerationInputs } from "../../../src-main/engine/generate/inputs.js";
import { planModels } from "../../../src-main/engine/generate/modelPlans.js";
import { parseCsv } from "../../../src-main/engine/run/results/csv.js";
import { parseMultipleResults } from "../../../src-main/engine/run/results/multipleResults.js";
import { formatPerfRow } from "../../../src-main/engine/run/results/perfCsv.js";
import { extractPerformance } from "../../../src-main/engine/run/results/performanceLine.js";
import { scratchDir, writeManifest, zooCopy } from "./fixtures.js";

function python(dir: string, code: string, input?: string): string {
  const helper = path.join(dir, "madengine_host.py");
  writeFileSync(helper, hostHelperSource());
  const result = spawnSync(
    "python3",
    [
      "-c",
      `import importlib.util, json, sys\nspec = importlib.util.spec_from_file_location("h", ${JSON.stringify(helper)})\nh = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(h)\n${code}`,
    ],
    { encoding: "utf8", input },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe("host helper: result parsing agrees with the run phase", () => {
  it("finds the same performance values and metrics as performanceLine.ts", () => {
    const lines = [
      "performance: 123 samples_per_second",
      "x performance: -1.5e+03 tokens/s",
      "performance: .5 it/s",
      "performance: 14164/s, 12 things",
      "performance: 7,  rows",
      "\u001b[32mperformance: 42 \u001b[1mcoloured\u001b[0m",
      "performance:12 nospace",
      "performance: abc x",
      "Performance: 1 case",
      "performance: 3 args",
    ];
    const dir = scratchDir();
    const out = JSON.parse(
      python(
        dir,
        "print(json.dumps([h.extract_performance(line) for line in json.load(sys.stdin)]))",
        JSON.stringify(lines),
      ),
    ) as ([string, string] | null)[];
    expect(out).toEqual(
      lines.map((line) => {
        const found = extractPerformance(line);
        return found ? [found.value, found.metric] : null;
      }),
    );
  });

  it("reads multiple-results CSVs with the same rows and problems as multipleResults.ts", () => {
    const texts = [
      "model,performance,metric\n1,12345,samples_per_sec\n2,23456,samples_per_sec\n",
      "\ufeff model , performance , metric \r\na,1,x\r\n\r\nb,,y\r\n",
      "model,performance,metric,extra\na,1,x\nb,2\n",
      'model,performance,metric\n"q,1",5,m\n',
      "model,performance,metric,model\na,1,x,b\n",
      'model,performance,metric\n"a"b,1,x\nc"d,2,y\n',
    ];
    const dir = scratchDir();
    const out = JSON.parse(
      python(
        dir,
        "print(json.dumps([h.parse_multiple_results(text, 'perf.csv') for text in json.load(sys.stdin)]))",
        JSON.stringify(texts),
      ),
    ) as [{ model: string; performance: string; metric: string }[], string[]][];
    texts.forEach((text, index) => {
      const expected = parseMultipleResults(text, "perf.csv");
      expect(out[index]![0]).toEqual(
        expected.rows.map((row) => ({ model: row.model, performance: row.performance, metric: row.metric })),
      );
      expect(out[index]![1]).toEqual(expected.problems);
    });
    const missing = python(
      dir,
      "try:\n    h.parse_multiple_results('model,perf\\n1,2\\n', 'p.csv')\nexcept h.Failure as e:\n    print(e)",
    );
    expect(missing.trim()).toBe(
      "p.csv: missing required columns 'performance', 'metric' (header: model,perf)",
    );
    const open = python(
      dir,
      "try:\n    h.parse_multiple_results('model,performance,metric\\n\"a,1,x\\n', 'p.csv')\nexcept h.Failure as e:\n    print(e)",
    );
    expect(open.trim()).toMatch(/^p\.csv: unterminated quoted field/);
    expect(() => parseMultipleResults('model,performance,metric\n"a,1,x\n', "p.csv")).toThrow(/unterminated/);
  });

  it("formats perf.csv cells like perfCsv.ts", () => {
    const dir = scratchDir();
    const row = {
      model: 'a,"b"',
      tags: "x,y",
      args: "--n 1",
      performance: "1",
      status: "SUCCESS",
    } as unknown as PerfRow;
    const full = Object.fromEntries(PERF_CSV_HEADER.split(",").map((column) => [column, ""])) as PerfRow;
    Object.assign(full, row);
    const line = python(
      dir,
      "row = json.load(sys.stdin)\nprint(','.join(h.format_cell(row[c]) for c in h.COLUMNS))",
      JSON.stringify(full),
    );
    expect(`${line.trimEnd()}\n`).toBe(formatPerfRow(full));
    expect(python(dir, "print(','.join(h.COLUMNS))").trim()).toBe(PERF_CSV_HEADER);
  });
});

/** A fake docker: `run` prints what FAKE_OUTPUT says and exits FAKE_EXIT; `kill` ends a sleeping run. */
function fakeDocker(dir: string): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const script = `#!/bin/sh
case "$1" in
  rm|kill) [ -f "$FAKE_STATE/pid" ] && kill "$(cat "$FAKE_STATE/pid")" 2>/dev/null; exit 0 ;;
  run)
    echo "$@" > "$FAKE_STATE/argv"
    for a in "$@"; do case "$a" in *:/myworkspace) root=\${a%:/myworkspace} ;; esac; done
    echo "::madengine:: user root"
    echo "::madengine:: model-start (interpreter sh) run.sh"
    if [ -n "\${FAKE_SLEEP:-}" ]; then echo $$ > "$FAKE_STATE/pid"; exec sleep "$FAKE_SLEEP"; fi
    printf '%b' "\${FAKE_OUTPUT:-}"
    if [ -n "\${FAKE_CSV:-}" ]; then printf '%b' "$FAKE_CSV" > "$root/perf_multi.csv"; fi
    echo "::madengine:: model-end \${FAKE_EXIT:-0}"
    echo "::madengine:: finished \${FAKE_EXIT:-0}"
    exit "\${FAKE_EXIT:-0}" ;;
esac
exit 0
`;
  writeFileSync(path.join(bin, "docker"), script);
  chmodSync(path.join(bin, "docker"), 0o755);
  return bin;
}

describe("host helper: run and collect", () => {
  async function setup(timeoutSec?: number) {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy", "dummy_multi"], undefined, (model) =>
      model.name === "dummy_multi" ? { ...model, multiple_results: "perf_multi.csv" } : model,
    );
    const inputs = await loadGenerationInputs({ manifestFile: file });
    const plans = await planModels(inputs, { madRoot: zoo, timeoutSec });
    const workspace = path.join(dir, "ws");
    mkdirSync(path.join(workspace, "mad"), { recursive: true });
    const plan = path.join(workspace, "plan.json");
    writeFileSync(plan, JSON.stringify({ models: hostPlanModels(plans, "test") }));
    const helper = path.join(workspace, "madengine_host.py");
    writeFileSync(helper, hostHelperSource());
    const bin = fakeDocker(dir);
    const state = path.join(dir, "state");
    mkdirSync(state);
    const run = (index: number, env: Record<string, string>, extra: string[] = []) =>
      spawnSync(
        "python3",
        [
          helper,
          "run",
          "--plan",
          plan,
          "--index",
          String(index),
          "--workspace",
          workspace,
          "--mad-root",
          zoo,
          "--machine",
          "node9",
          "--image",
          "reg/x@sha256:1",
          ...extra,
        ],
        {
          encoding: "utf8",
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_STATE: state, ...env },
        },
      );
    const collect = () =>
      spawnSync(
        "python3",
        [
          helper,
          "collect",
          "--plan",
          plan,
          "--workspace",
          workspace,
          "--machine",
          "node9",
          "--out",
          path.join(workspace, "perf.csv"),
        ],
        {
          encoding: "utf8",
        },
      );
    const rows = () => {
      const [, ...lines] = parseCsv(readFileSync(path.join(workspace, "perf.csv"), "utf8").trimEnd());
      return lines;
    };
    return { zoo, workspace, state, run, collect, rows, plans };
  }

  it("records a success with the performance line, and writes perf.csv with the contract header", async () => {
    const t = await setup();
    const first = t.run(0, { FAKE_OUTPUT: "warming up\\nperformance: 321.5 samples_per_second\\n" });
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      status: "SUCCESS",
      performance: "321.5",
      metric: "samples_per_second",
    });
    const argv = readFileSync(path.join(t.state, "argv"), "utf8");
    expect(argv).toContain(`--name container_ci-dummy_dummy.ubuntu.none.node9.test`);
    expect(argv).toContain(`--volume ${t.zoo}:/myworkspace`);
    expect(argv).toContain("reg/x@sha256:1 sh -c");
    const second = t.run(1, { FAKE_CSV: "model,performance,metric\\n1,10,fps\\n2,nan,fps\\n" });
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "SUCCESS", performance: "perf_multi.csv" });
    const collected = t.collect();
    expect(JSON.parse(collected.stdout)).toMatchObject({ machine: "node9", rows: 3, failed: [] });
    const text = readFileSync(path.join(t.workspace, "perf.csv"), "utf8");
    expect(text.split("\n")[0]).toBe(PERF_CSV_HEADER);
    const rows = t.rows();
    expect(rows.map((row) => [row[0], row[11], row[13], row[16]])).toEqual([
      ["dummy", "node9", "321.5", "SUCCESS"],
      ["dummy_multi_1", "node9", "10", "SUCCESS"],
      ["dummy_multi_2", "node9", "nan", "FAILURE"],
    ]);
  });

  it("records failures: exit code, no performance line, image problems, missing devices", async () => {
    const t = await setup();
    expect(JSON.parse(t.run(0, { FAKE_EXIT: "3" }).stdout)).toMatchObject({
      status: "FAILURE",
      reason: "exit code 3",
    });
    expect(JSON.parse(t.run(0, {}).stdout).reason).toMatch(/^no performance line/);
    expect(JSON.parse(t.run(1, {}).stdout).reason).toBe(
      "multiple results file perf_multi.csv was not written",
    );
    const image = t.run(0, {}, ["--image-error", "image reg/x could not be pulled"]);
    expect(JSON.parse(image.stdout)).toMatchObject({
      status: "FAILURE",
      reason: "image reg/x could not be pulled",
    });
    expect(
      readFileSync(path.join(t.workspace, "results", "dummy_dummy.ubuntu.none.run.live.log"), "utf8"),
    ).toContain("could not be pulled");
    const planFile = path.join(t.workspace, "plan.json");
    const plan = JSON.parse(readFileSync(planFile, "utf8"));
    plan.models[0].required_devices = ["/dev/madengine-no-such-device"];
    plan.models[0].gpus_text = "2 GPUs";
    writeFileSync(planFile, JSON.stringify(plan));
    expect(JSON.parse(t.run(0, {}).stdout).reason).toMatch(
      /^model dummy needs 2 GPUs, but \/dev\/madengine-no-such-device is missing on this host/,
    );
  });

  it("plans the GPU devices a node must have (AMD), and /dev/fuse only when present", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy"], {
      gpu_vendor: "AMD",
      docker_env_vars: { MAD_SYSTEM_NGPUS: 4 },
    });
    const [plan] = await planModels(await loadGenerationInputs({ manifestFile: file }), { madRoot: zoo });
    const [model] = hostPlanModels([plan!], "ansible");
    expect(model!.required_devices).toEqual(["/dev/kfd", "/dev/dri/renderD128"]);
    expect(model!.optional_devices).toEqual(["/dev/fuse"]);
    expect(model!.gpus_text).toBe("1 GPU");
    expect(model!.docker_options).not.toContain("/dev/fuse:/dev/fuse:rwm");
  });

  it("kills a model at its timeout and records it", async () => {
    const t = await setup(1);
    const started = Date.now();
    const result = t.run(0, { FAKE_SLEEP: "30" });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "FAILURE", reason: "timeout after 1 s" });
    const log = readFileSync(
      path.join(t.workspace, "results", "dummy_dummy.ubuntu.none.run.live.log"),
      "utf8",
    );
    expect(log).toContain("::madengine:: timeout after 1 s: killing the container");
  });

  it("hides secret values given on stdin from the log", async () => {
    const t = await setup();
    const plan = JSON.parse(readFileSync(path.join(t.workspace, "plan.json"), "utf8"));
    plan.models[0].secret_env = ["MAD_SECRETS_TOKEN"];
    writeFileSync(path.join(t.workspace, "plan.json"), JSON.stringify(plan));
    const result = spawnSync(
      "python3",
      [
        path.join(t.workspace, "madengine_host.py"),
        "run",
        "--plan",
        path.join(t.workspace, "plan.json"),
        "--index",
        "0",
        "--workspace",
        t.workspace,
        "--mad-root",
        t.zoo,
        "--machine",
        "n",
        "--image",
        "x",
        "--secret-env-stdin",
      ],
      {
        encoding: "utf8",
        input: JSON.stringify({ MAD_SECRETS_TOKEN: "hunter2-secret", OTHER: "not-allowed" }),
        env: {
          ...process.env,
          PATH: `${path.join(path.dirname(t.workspace), "bin")}:${process.env.PATH}`,
          FAKE_STATE: t.state,
          FAKE_OUTPUT: "token is hunter2-secret\\nperformance: 1 x\\n",
        },
      },
    );
    expect(result.status).toBe(0);
    const log = readFileSync(
      path.join(t.workspace, "results", "dummy_dummy.ubuntu.none.run.live.log"),
      "utf8",
    );
    expect(log).toContain("token is ***");
    expect(log).not.toContain("hunter2-secret");
  });
});
