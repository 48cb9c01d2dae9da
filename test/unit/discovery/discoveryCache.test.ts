import { appendFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { discoverModels } from "../../../src-main/engine/discovery/zoo.js";
import { runCli } from "../../helpers/cli.js";
import { tempTree } from "../../helpers/tempDir.js";

// A get_models_json.py whose output changes on every Python run (the clock is not something the
// cache can see): the same `args` twice means the second discovery did not start Python.
const clockScript = (extra = "") =>
  [
    "import time",
    "from madengine.tools.discover_models import CustomModel",
    extra,
    "def list_models():",
    "    return [CustomModel(name='m', dockerfile='d', scripts='s.sh', n_gpus='1', tags=['t'], args=ARGS + str(time.time_ns()))]",
    "",
  ].join("\n");

function zoo(extra = "ARGS = 'v1:'", files: Record<string, string> = {}): string {
  return tempTree({ "models.json": [], "scripts/gen/get_models_json.py": clockScript(extra), ...files });
}

async function argsOf(root: string, options: { cache?: boolean } = {}): Promise<string> {
  const found = await discoverModels(root, options);
  return found.models[0]!.model.args;
}

let cacheDir: string;
const savedEnv = { ...process.env };

beforeEach(() => {
  cacheDir = mkdtempSync(path.join(tmpdir(), "madengine-discovery-cache-"));
  process.env.MADENGINE_DISCOVERY_CACHE_DIR = cacheDir;
  delete process.env.MADENGINE_DISCOVERY_CACHE;
});

afterEach(() => {
  process.env = { ...savedEnv };
});

describe("the discovery cache of get_models_json.py outputs", () => {
  it("reuses an unchanged script's output without running Python again", async () => {
    const root = zoo();
    const first = await argsOf(root);
    expect(first).toMatch(/^v1:\d+$/);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect(await argsOf(root)).toBe(first);
    expect(await argsOf(root)).toBe(first);
  });

  it("runs the script again once it changes, and caches the new output", async () => {
    const root = zoo();
    const first = await argsOf(root);
    writeFileSync(path.join(root, "scripts/gen/get_models_json.py"), clockScript("ARGS = 'v2:'"));
    const second = await argsOf(root);
    expect(second).toMatch(/^v2:\d+$/);
    expect(second).not.toBe(first);
    expect(await argsOf(root)).toBe(second);
  });

  it("runs it again when any file in its directory changes, imported or not", async () => {
    const root = zoo("ARGS = 'v1:'", { "scripts/gen/notes.txt": "a" });
    const first = await argsOf(root);
    appendFileSync(path.join(root, "scripts/gen/notes.txt"), "b");
    const second = await argsOf(root);
    expect(second).not.toBe(first);
    writeFileSync(path.join(root, "scripts/gen/helper.py"), "X = 1\n");
    expect(await argsOf(root)).not.toBe(second);
  });

  it("runs it again when a file it read outside its directory changes", async () => {
    const root = zoo("ARGS = open('../../version.txt').read().strip() + ':'", { "version.txt": "v1" });
    const first = await argsOf(root);
    expect(first).toMatch(/^v1:/);
    expect(await argsOf(root)).toBe(first);
    writeFileSync(path.join(root, "version.txt"), "v2");
    expect(await argsOf(root)).toMatch(/^v2:/);
  });

  it("runs it again when an environment variable it read changes, or is unset", async () => {
    const root = zoo("import os\nARGS = os.environ.get('ZOO_FLAVOUR', 'none') + ':'");
    process.env.ZOO_FLAVOUR = "a";
    const first = await argsOf(root);
    expect(first).toMatch(/^a:/);
    expect(await argsOf(root)).toBe(first);
    process.env.UNRELATED_VARIABLE = "changes nothing";
    expect(await argsOf(root)).toBe(first);
    process.env.ZOO_FLAVOUR = "b";
    expect(await argsOf(root)).toMatch(/^b:/);
    delete process.env.ZOO_FLAVOUR;
    expect(await argsOf(root)).toMatch(/^none:/);
  });

  it("never caches a script that runs a process or writes a file", async () => {
    for (const extra of [
      "import subprocess\nARGS = subprocess.run(['echo', 'x'], capture_output=True, text=True).stdout.strip() + ':'",
      "open('written.txt', 'w').write('x')\nARGS = 'w:'",
    ]) {
      const root = zoo(extra);
      const first = await argsOf(root);
      expect(await argsOf(root)).not.toBe(first);
    }
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("never caches a failure", async () => {
    const root = tempTree({
      "models.json": [],
      "scripts/boom/get_models_json.py": "def list_models():\n    raise RuntimeError('zoo exploded')\n",
    });
    await expect(discoverModels(root)).rejects.toThrow("zoo exploded");
    await expect(discoverModels(root)).rejects.toThrow("zoo exploded");
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("is bypassed with MADENGINE_DISCOVERY_CACHE=0 and with cache: false", async () => {
    const root = zoo();
    process.env.MADENGINE_DISCOVERY_CACHE = "0";
    const first = await argsOf(root);
    expect(await argsOf(root)).not.toBe(first);
    expect(readdirSync(cacheDir)).toEqual([]);
    delete process.env.MADENGINE_DISCOVERY_CACHE;
    const cached = await argsOf(root);
    expect(await argsOf(root)).toBe(cached);
    expect(await argsOf(root, { cache: false })).not.toBe(cached);
  });

  it("is bypassed by the CLI's --no-discovery-cache", async () => {
    const root = zoo();
    const env = { MADENGINE_DISCOVERY_CACHE_DIR: cacheDir };
    const discover = async (...extra: string[]) => {
      const result = await runCli(["discover", "--mad-root", root, "--json", ...extra], { env });
      expect(result.stderr).toBe("");
      return (JSON.parse(result.stdout) as { args: string }[])[0]!.args;
    };
    const first = await discover();
    expect(await discover()).toBe(first);
    const bypassed = await discover("--no-discovery-cache");
    expect(bypassed).not.toBe(first);
    expect(await discover()).toBe(first);
  });
});
