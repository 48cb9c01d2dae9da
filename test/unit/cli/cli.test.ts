import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { fixturePath, repoPath, tempTree } from "../../helpers/tempDir.js";

const cli = (args: string[], options: { cwd?: string } = {}) => runCli(args, options);

describe("the built CLI bundle", () => {
  const bundleFiles = () => readdirSync(repoPath("dist", "bundle")).filter((name) => name.endsWith(".cjs"));

  it("links every lazily loaded chunk (a bad import from a CommonJS package fails here, not in a user's run)", () => {
    const chunks = bundleFiles();
    expect(chunks.length).toBeGreaterThan(3);
    const script = `for (const c of ${JSON.stringify(chunks)}) require("./dist/bundle/" + c); console.log("linked")`;
    const result = spawnSync(process.execPath, ["-e", script], { cwd: repoPath(), encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("linked");
  });

  it("runs its own chunks in strict mode, as the ES modules they come from", () => {
    for (const chunk of bundleFiles().filter((name) => name !== "dockerode.vendor.cjs")) {
      expect(readFileSync(repoPath("dist", "bundle", chunk), "utf8").startsWith('"use strict";'), chunk).toBe(
        true,
      );
    }
  });

  it("has no import() of its own: code compiled from V8's code cache loses the dynamic import hook", () => {
    // Node 20: a function deserialized from cachedData throws "A dynamic import callback was not
    // specified" on import(); lazy loading goes through require() of bundle chunks instead
    for (const chunk of bundleFiles()) {
      const code = readFileSync(repoPath("dist", "bundle", chunk), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      expect(code.match(/(?<![\w$.])import\s*\(\s*["'`]/g) ?? [], chunk).toEqual([]);
    }
  });

  it("talks to Docker through its one-file dockerode, which loads nothing from node_modules", () => {
    const registryChunk = bundleFiles().find((name) =>
      /function loadDockerode\b/.test(readFileSync(repoPath("dist", "bundle", name), "utf8")),
    );
    expect(registryChunk).toBeDefined();
    const script = `
      const chunk = require("./dist/bundle/${registryChunk}");
      const loadDockerode = Object.values(chunk).find((f) => typeof f === "function" && f.name === "loadDockerode");
      const Docker = loadDockerode();
      const docker = new Docker({ socketPath: "/nonexistent.sock" });
      const loaded = Object.keys(require.cache).filter((file) => !file.includes("/dist/bundle/") || file.endsWith("vendor.cjs"));
      console.log(JSON.stringify({ socketPath: docker.modem.socketPath, loaded }));`;
    const result = spawnSync(process.execPath, ["-e", script], { cwd: repoPath(), encoding: "utf8" });
    expect(result.stderr).toBe("");
    const { socketPath, loaded } = JSON.parse(result.stdout) as { socketPath: string; loaded: string[] };
    expect(socketPath).toBe("/nonexistent.sock");
    expect(loaded).toEqual([repoPath("dist", "bundle", "dockerode.vendor.cjs")]);
  });

  it("formats a request's options for docker-modem's debug log only when DEBUG turns that log on", () => {
    // the options hold the HTTP agent, and with it every socket it keeps: formatting them on every
    // API call cost CPU for nothing
    const socket = path.join(tempTree(), "docker.sock");
    const script = `
      const http = require("node:http");
      const { inspect } = require("node:util");
      const Docker = require("./dist/bundle/dockerode.vendor.cjs");
      const server = http.createServer((req, res) => res.end('{"ApiVersion":"1.41"}'));
      server.listen(${JSON.stringify(socket)}, async () => {
        let formatted = 0;
        const agent = new http.Agent({ keepAlive: true });
        agent[inspect.custom] = () => { formatted++; return "agent"; };
        const docker = new Docker({ socketPath: ${JSON.stringify(socket)}, agent });
        await docker.version();
        await docker.version();
        console.log(JSON.stringify({ formatted }));
        agent.destroy();
        server.close();
      });`;
    const formattedWith = (env: NodeJS.ProcessEnv) => {
      const result = spawnSync(process.execPath, ["-e", script], {
        cwd: repoPath(),
        encoding: "utf8",
        env: { ...process.env, DEBUG: "", ...env },
      });
      expect(result.status, result.stderr).toBe(0);
      return (JSON.parse(result.stdout.trim().split("\n").pop()!) as { formatted: number }).formatted;
    };
    expect(formattedWith({})).toBe(0);
    expect(formattedWith({ DEBUG: "modem" })).toBeGreaterThan(0);
  });

  describe("V8 code cache (bin/load-bundle.cjs)", () => {
    const entries = (cacheHome: string) => {
      const base = path.join(cacheHome, "madengine-control-center", "v8");
      if (!existsSync(base)) return [];
      return readdirSync(base, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.join(entry.parentPath, entry.name));
    };

    it("writes one entry per chunk a command loaded, then runs from them with the same output", async () => {
      const cacheHome = tempTree();
      const env = { XDG_CACHE_HOME: cacheHome };
      const first = await runCli(["discover", "--mad-root", fixturePath("mad"), "--json"], { env });
      expect(first.code).toBe(0);
      const written = entries(cacheHome);
      expect(written.map((file) => path.basename(file))).toContainEqual(
        expect.stringMatching(/^main\.cjs-\d+-/),
      );
      expect(written.length).toBeGreaterThan(3);
      const second = await runCli(["discover", "--mad-root", fixturePath("mad"), "--json"], { env });
      expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: first.stderr });
      expect(entries(cacheHome)).toEqual(written);
    });

    it("a corrupt entry is rejected by V8 and rewritten; MADENGINE_CODE_CACHE=0 writes none", async () => {
      const cacheHome = tempTree();
      const env = { XDG_CACHE_HOME: cacheHome };
      expect((await runCli(["--version"], { env })).code).toBe(0);
      const main = entries(cacheHome).find((file) => path.basename(file).startsWith("main.cjs-"))!;
      const good = readFileSync(main);
      writeFileSync(main, Buffer.from("not V8 code cache data"));
      const again = await runCli(["--version"], { env });
      expect(again).toMatchObject({ code: 0, stderr: "" });
      expect(again.stdout).toMatch(/^madengine-cli version /);
      expect(readFileSync(main).length).toBe(good.length);

      const off = tempTree();
      expect(
        (await runCli(["--version"], { env: { XDG_CACHE_HOME: off, MADENGINE_CODE_CACHE: "0" } })).code,
      ).toBe(0);
      expect(entries(off)).toEqual([]);
    });
  });
});

describe("madengine-cli", () => {
  it("prints help with no arguments and with --help", async () => {
    for (const args of [[], ["--help"]]) {
      const { code, stdout } = await cli(args);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: madengine-cli");
      expect(stdout).toContain("discover");
      expect(stdout).toContain(
        "Exit codes: 0 ok, 1 error, 2 build failure, 3 run failure, 4 invalid arguments.",
      );
    }
  });

  it("prints its version", async () => {
    const { code, stdout } = await cli(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^madengine-cli version \d+\.\d+\.\d+$/);
  });

  it("discover --json on the MAD fixture selects 25 vLLM models", async () => {
    const { code, stdout } = await cli([
      "discover",
      "--mad-root",
      fixturePath("mad"),
      "--tags",
      "vllm",
      "--json",
    ]);
    expect(code).toBe(0);
    const models = JSON.parse(stdout) as { name: string }[];
    expect(models).toHaveLength(25);
  });

  it("discover accepts repeated and space-separated tags, and tag arguments", async () => {
    const { code, stdout } = await cli([
      "discover",
      "--mad-root",
      fixturePath("mad"),
      "-t",
      "pyt_vllm_llama-3.1-8b:num_gpu=2",
      "--tags",
      "dummies",
      "pyt_huggingface_gpt2",
      "--json",
    ]);
    expect(code).toBe(0);
    const models = JSON.parse(stdout) as { name: string; args: string }[];
    expect(models.map((m) => m.name)).toEqual([
      "pyt_huggingface_gpt2",
      "pyt_vllm_llama-3.1-8b",
      "dummy_multi",
    ]);
    expect(models[1]!.args.endsWith(" --num_gpu 2")).toBe(true);
  });

  it("discover prints a table from the current directory by default", async () => {
    const { code, stdout } = await cli(["discover"], { cwd: repoPath("assets", "zoo") });
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(/^MODEL\s+TAGS\s+GPUS\s+DOCKERFILE\s+SCRIPTS\s+ARGS$/);
    expect(stdout).toMatch(/^family\/model_a\s+family,dummies/m);
    expect(stdout).toMatch(/^dynamic\/gen_small\s/m);
  });

  describe("errors are one line plus a hint, with the right exit code", () => {
    it("unknown tag: exit 1", async () => {
      const { code, stderr } = await cli(["discover", "--mad-root", fixturePath("mad"), "--tags", "vlm"]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        'error: no model matches tag "vlm"\nhint: did you mean "vllm"? run \'madengine-cli discover\' to list the 37 models and their tags\n',
      );
    });

    it("not a MAD root: exit 1, no stack trace unless --verbose", async () => {
      const root = tempTree({});
      const plain = await cli(["discover", "--mad-root", root]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain("models.json: file not found");
      expect(plain.stderr).not.toContain("    at ");
      const verbose = await cli(["discover", "--mad-root", root, "--verbose"]);
      expect(verbose.code).toBe(1);
      expect(verbose.stderr).toContain("    at ");
    });

    it("malformed models.json: file, line and column", async () => {
      const root = tempTree({ "models.json": '[{"name": "a"\n' });
      const { code, stderr } = await cli(["discover", "--mad-root", root]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^error: .*models\.json: not valid JSON at line 2, column 1/);
    });

    it("unknown option and unknown command: exit 4", async () => {
      expect((await cli(["discover", "--bogus"])).code).toBe(4);
      expect((await cli(["frobnicate"])).code).toBe(4);
    });
  });
});
