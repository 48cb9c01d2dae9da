import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerServeCommand, runServe } from "../../../src-main/cli/commands/serve.js";
import { tempTree } from "../../helpers/tempDir.js";
import { postCall, request } from "./bridgeClient.js";

describe("madengine-cli serve", () => {
  it("registers its options", () => {
    const program = new Command("madengine-cli");
    registerServeCommand(program);
    const serve = program.commands.find((command) => command.name() === "serve");
    expect(serve?.options.map((option) => option.long)).toEqual([
      "--port",
      "--host",
      "--open",
      "--allow-remote",
      "--mad-root",
      "--workspace",
      "--data-dir",
      "--nodes",
      "--known-hosts",
      "--verbose",
    ]);
  });

  it("rejects a bad port and a remote address without --allow-remote", async () => {
    const program = new Command("madengine-cli").exitOverride();
    registerServeCommand(program);
    await expect(
      program.parseAsync(["node", "madengine-cli", "serve", "--port", "http"]),
    ).rejects.toMatchObject({
      code: "INVALID_ARGS",
    });
    await expect(runServe({ host: "0.0.0.0", workspace: tempTree() })).rejects.toMatchObject({
      code: "INVALID_ARGS",
      hint: expect.stringContaining("--allow-remote"),
    });
  });

  it("prints the address, serves until stopped, then closes", async () => {
    const workspace = tempTree();
    const zoo = path.join(workspace, "no-zoo-here");
    let stop: () => void = () => {};
    const output: string[] = [];
    const running = runServe(
      { workspace, madRoot: zoo },
      { stop: new Promise<void>((resolve) => (stop = resolve)), write: (text) => output.push(text) },
    );
    const started = Date.now();
    while (!output.join("").includes("madengine Control Center:") && Date.now() - started < 10_000)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const match = /^madengine Control Center: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))$/m.exec(
      output.join(""),
    );
    expect(match).not.toBeNull();
    const port = Number(match![2]);
    const token = match![3]!;
    expect(output.join("")).toContain(`jobs write to ${path.resolve(workspace)}`);
    const status = await postCall(port, token, "engine.status", {});
    expect(status.json).toMatchObject({ ok: true, result: { defaultMadRoot: zoo } });
    const discover = await postCall(port, token, "zoo.discover", {});
    expect(discover.json).toMatchObject({ ok: false, error: { code: "FILE_NOT_FOUND" } });
    stop();
    expect(await running).toBe(0);
    await expect(request(port)).rejects.toThrow();
  });
});
