import { describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import {
  loadContext,
  redactContext,
  requireBuildTarget,
} from "../../../src-main/engine/context/loadContext.js";
import { tempTree } from "../../helpers/tempDir.js";

async function contextError(input: Parameters<typeof loadContext>[0]): Promise<MadError> {
  try {
    await loadContext(input);
  } catch (error) {
    if (error instanceof MadError) return error;
    throw error;
  }
  throw new Error("expected loadContext to fail");
}

describe("loadContext", () => {
  it("merges file, then string on top, deep for maps and replacing lists", async () => {
    const root = tempTree({
      "ctx.json": {
        gpu_vendor: "AMD",
        guest_os: "UBUNTU",
        docker_env_vars: { A: "file", B: "file" },
        tools: [{ name: "rocprof" }],
      },
    });
    const { context } = await loadContext({
      additionalContextFile: `${root}/ctx.json`,
      additionalContext:
        '{"gpu_vendor": "NVIDIA", "docker_env_vars": {"B": "string"}, "tools": [{"name": "rpd"}]}',
      env: {},
    });
    expect(context.gpu_vendor).toBe("NVIDIA");
    expect(context.guest_os).toBe("UBUNTU");
    expect(context.docker_env_vars).toEqual({ A: "file", B: "string" });
    expect(context.tools).toEqual([{ name: "rpd" }]);
    expect(context.docker_build_arg).toEqual({});
  });

  it("copies MAD_SECRETS* variables into build args and container env, and can redact them", async () => {
    const { context, secretNames } = await loadContext({
      env: { MAD_SECRETS_HFTOKEN: "hf_s3cret", OTHER: "x" },
      additionalContext: '{"gpu_vendor": "NONE"}',
    });
    expect(secretNames).toEqual(["MAD_SECRETS_HFTOKEN"]);
    expect(context.docker_build_arg).toEqual({ MAD_SECRETS_HFTOKEN: "hf_s3cret" });
    expect(context.docker_env_vars).toEqual({ MAD_SECRETS_HFTOKEN: "hf_s3cret" });
    const shown = JSON.stringify(redactContext(context, secretNames));
    expect(shown).not.toContain("hf_s3cret");
    expect(shown).toContain('"MAD_SECRETS_HFTOKEN":"***"');
  });

  it("treats an empty string as no context", async () => {
    const { context } = await loadContext({ additionalContext: "  ", env: {} });
    expect(context).toEqual({ docker_build_arg: {}, docker_env_vars: {} });
  });

  describe("bad input", () => {
    it("a context that is not JSON gives line/column and exit code 4", async () => {
      const error = await contextError({ additionalContext: '{"gpu_vendor": "AMD",', env: {} });
      expect(error.code).toBe("CONTEXT_INVALID");
      expect(error.exitCode).toBe(4);
      expect(error.message).toMatch(/^--additional-context: not valid JSON at line 1/);
    });

    it("Python-style quotes get a hint to write JSON", async () => {
      const error = await contextError({ additionalContext: "{'gpu_vendor': 'AMD'}", env: {} });
      expect(error.hint).toContain("use double quotes");
    });

    it("a context that is not an object", async () => {
      const error = await contextError({ additionalContext: '["AMD"]', env: {} });
      expect(error.message).toBe("--additional-context: expected a JSON object, found an array");
    });

    it("a wrong type names the key, the expectation and the value", async () => {
      const error = await contextError({ additionalContext: '{"docker_build_arg": {"X": 5}}', env: {} });
      expect(error.message).toBe(
        "--additional-context: docker_build_arg.X: expected a value of type string, found number 5",
      );
      expect(error.exitCode).toBe(4);
    });

    it("an unknown GPU vendor lists the valid ones", async () => {
      const error = await contextError({ additionalContext: '{"gpu_vendor": "amd"}', env: {} });
      expect(error.message).toContain('expected one of "AMD", "NVIDIA", "INTEL", "NONE", found string "amd"');
    });

    it("a missing or malformed context file names the file", async () => {
      const missing = await contextError({ additionalContextFile: "/nonexistent/ctx.json", env: {} });
      expect(missing.message).toBe("/nonexistent/ctx.json: file not found");
      const root = tempTree({ "bad.json": "{\n  gpu_vendor: 1\n}" });
      const bad = await contextError({ additionalContextFile: `${root}/bad.json`, env: {} });
      expect(bad.message).toMatch(/bad\.json: not valid JSON at line 2, column 3/);
    });
  });
});

describe("requireBuildTarget", () => {
  it("needs gpu_vendor and guest_os and shows an example", () => {
    expect(() => requireBuildTarget({ gpu_vendor: "NONE", guest_os: "UBUNTU" })).not.toThrow();
    try {
      requireBuildTarget({ gpu_vendor: "AMD" });
      expect.unreachable();
    } catch (error) {
      expect((error as MadError).message).toBe("the build context lacks guest_os");
      expect((error as MadError).hint).toContain('{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}');
      expect((error as MadError).exitCode).toBe(4);
    }
  });
});
