import { describe, expect, it } from "vitest";
import {
  composeToolsAndScripts,
  parseToolsFile,
  TOOLS_FILE,
  toolsFileSchema,
} from "../../../../src-main/engine/run/container/toolsAndScripts.js";
import { thrown } from "../../../helpers/errors.js";

const TRACE = "python3 ../scripts/common/tools/get_library_trace.py";

/** A tools.json in the shape of the one MAD ships (spec §6.2), trimmed. */
const TOOLS = {
  tools: {
    rpd: {
      pre_scripts: [{ path: "scripts/common/pre_scripts/trace.sh", args: "rpd" }],
      cmd: "runTracer.sh",
      post_scripts: [{ path: "scripts/common/post_scripts/trace.sh", args: "rpd" }],
    },
    rocprof: {
      cmd: "rocprof",
      post_scripts: [{ path: "scripts/common/post_scripts/trace.sh", args: "rocprof" }],
    },
    rocblas_trace: { cmd: TRACE, env_vars: { ROCBLAS_TRACE: "1" } },
    miopen_trace: { cmd: TRACE, env_vars: { MIOPEN_TRACE: "1" } },
    gpu_info_power_profiler: {
      pre_scripts: [{ path: "scripts/common/pre_scripts/gpu_info_pre.sh" }],
      cmd: "python3 ../scripts/common/tools/gpu_info_profiler.py",
      env_vars: { DEVICE: "all", SAMPLING_RATE: "0.1", MODE: "power", "DUAL-GCD": "false" },
      post_scripts: [
        { path: "scripts/common/post_scripts/gpu_info_post.sh", args: "gpu_info_power_profiler" },
      ],
    },
    test_tools_A: {
      pre_scripts: [{ path: "scripts/common/pre_scripts/test_echo.sh", args: '"pre_script A"' }],
      cmd: "echo cmd_A && ",
      post_scripts: [{ path: "scripts/common/post_scripts/test_echo.sh", args: '"post_script A"' }],
    },
    test_tools_B: {
      pre_scripts: [{ path: "scripts/common/pre_scripts/test_echo.sh", args: '"pre_script B"' }],
      cmd: "echo cmd_B && ",
      post_scripts: [{ path: "scripts/common/post_scripts/test_echo.sh", args: '"post_script B"' }],
    },
  },
};

describe("parseToolsFile", () => {
  it("accepts the shipped shape, as an object or as JSON text", () => {
    expect(parseToolsFile(TOOLS).tools.rpd?.cmd).toBe("runTracer.sh");
    expect(parseToolsFile(JSON.stringify(TOOLS))).toEqual(parseToolsFile(TOOLS));
  });

  it("keeps unknown keys (forward compatible)", () => {
    const parsed = parseToolsFile({ version: 2, tools: { t: { cmd: "x", description: "d" } } });
    expect(parsed.tools.t).toMatchObject({ cmd: "x", description: "d" });
  });

  it("names the file and the JSON path of a problem", () => {
    const error = thrown(() => parseToolsFile({ tools: { rpd: { pre_scripts: [{ args: "x" }] } } }));
    expect(error.message).toMatch(
      /^scripts\/common\/tools\.json: tools\.rpd\.pre_scripts\[0\]\.path: expected/,
    );
    expect(error.file).toBe(TOOLS_FILE);
    expect(error.code).toBe("INVALID_FILE");
  });

  it.each([
    [{}, /tools: expected/],
    [{ tools: [] }, /tools: expected/],
    [{ tools: { t: { cmd: 3 } } }, /tools\.t\.cmd: expected a value of type string/],
    [{ tools: { t: { env_vars: { A: null } } } }, /tools\.t\.env_vars\.A/],
    [{ tools: { t: { post_scripts: [{ path: "" }] } } }, /tools\.t\.post_scripts\[0\]\.path/],
  ])("rejects %j", (content, message) => {
    expect(() => parseToolsFile(content)).toThrow(message);
  });

  it("reports JSON syntax errors with a position and the given file name", () => {
    expect(() => parseToolsFile('{"tools": {', "my/tools.json")).toThrow(/^my\/tools\.json: not valid JSON/);
  });

  it("exports the schema", () => {
    expect(toolsFileSchema.safeParse(TOOLS).success).toBe(true);
  });
});

describe("composeToolsAndScripts (spec §6.2)", () => {
  it("passes context scripts and encapsulate_script through without tools", () => {
    expect(
      composeToolsAndScripts({
        toolsJson: undefined,
        context: {
          pre_scripts: [{ path: "scripts/common/pre_scripts/pre_test.sh", args: "1.0" }],
          post_scripts: [{ path: "scripts/common/post_scripts/post_test.sh" }],
          encapsulate_script: "numactl --interleave=all",
        },
      }),
    ).toEqual({
      preScripts: [{ path: "scripts/common/pre_scripts/pre_test.sh", args: "1.0" }],
      postScripts: [{ path: "scripts/common/post_scripts/post_test.sh", args: "" }],
      commandPrefix: ["numactl --interleave=all"],
      env: {},
    });
  });

  it("returns empty lists for an empty context", () => {
    expect(composeToolsAndScripts({ toolsJson: TOOLS, context: {} })).toEqual({
      preScripts: [],
      postScripts: [],
      commandPrefix: [],
      env: {},
    });
  });

  it("does not read tools.json when no tools are selected", () => {
    expect(composeToolsAndScripts({ toolsJson: "{ not json", context: { tools: [] } }).commandPrefix).toEqual(
      [],
    );
  });

  it("composes [T1, T2] with T1 innermost: pre Tn..T1 then context, post context then T1..Tn", () => {
    const result = composeToolsAndScripts({
      toolsJson: TOOLS,
      context: {
        tools: [{ name: "test_tools_A" }, { name: "test_tools_B" }],
        pre_scripts: [{ path: "scripts/common/pre_scripts/pre_test.sh", args: "ctx" }],
        post_scripts: [{ path: "scripts/common/post_scripts/post_test.sh", args: "ctx" }],
        encapsulate_script: "ENCAP",
      },
    });
    expect(result.preScripts.map((s) => s.args)).toEqual(['"pre_script B"', '"pre_script A"', "ctx"]);
    expect(result.postScripts.map((s) => s.args)).toEqual(["ctx", '"post_script A"', '"post_script B"']);
    // Tn.cmd … T1.cmd <encapsulate_script> bash run.sh
    expect(result.commandPrefix).toEqual(["echo cmd_B && ", "echo cmd_A && ", "ENCAP"]);
  });

  it("keeps each tool's own script order and defaults args to an empty string", () => {
    const toolsJson = {
      tools: {
        t: {
          pre_scripts: [{ path: "p1.sh" }, { path: "p2.sh", args: "x" }],
          post_scripts: [{ path: "q1.sh" }, { path: "q2.sh" }],
        },
      },
    };
    const result = composeToolsAndScripts({ toolsJson, context: { tools: [{ name: "t" }] } });
    expect(result.preScripts).toEqual([
      { path: "p1.sh", args: "" },
      { path: "p2.sh", args: "x" },
    ]);
    expect(result.postScripts).toEqual([
      { path: "q1.sh", args: "" },
      { path: "q2.sh", args: "" },
    ]);
    expect(result.commandPrefix).toEqual([]);
  });

  it("merges env vars, later tools winning", () => {
    const toolsJson = {
      tools: { a: { env_vars: { X: "a", A: "1" } }, b: { env_vars: { X: "b", B: 2, C: true } } },
    };
    expect(
      composeToolsAndScripts({ toolsJson, context: { tools: [{ name: "a" }, { name: "b" }] } }).env,
    ).toEqual({
      X: "b",
      A: "1",
      B: "2",
      C: "true",
    });
    expect(
      composeToolsAndScripts({ toolsJson, context: { tools: [{ name: "b" }, { name: "a" }] } }).env.X,
    ).toBe("a");
  });

  it("lets a context tool's cmd replace the tool's and its env_vars merge over the tool's", () => {
    const result = composeToolsAndScripts({
      toolsJson: TOOLS,
      context: {
        tools: [
          {
            name: "gpu_info_power_profiler",
            cmd: "python3 my_profiler.py",
            env_vars: { SAMPLING_RATE: 1, EXTRA: "yes" },
          },
        ],
      },
    });
    expect(result.commandPrefix).toEqual(["python3 my_profiler.py"]);
    expect(result.env).toEqual({
      DEVICE: "all",
      SAMPLING_RATE: "1",
      MODE: "power",
      "DUAL-GCD": "false",
      EXTRA: "yes",
    });
    expect(result.preScripts).toEqual([{ path: "scripts/common/pre_scripts/gpu_info_pre.sh", args: "" }]);
  });

  it("lets a context cmd of an empty string remove the tool's command", () => {
    const result = composeToolsAndScripts({
      toolsJson: TOOLS,
      context: { tools: [{ name: "rpd", cmd: "" }] },
    });
    expect(result.commandPrefix).toEqual([]);
    expect(result.preScripts).toHaveLength(1);
  });

  it("collapses stacked get_library_trace tools into one invocation with both env vars", () => {
    const result = composeToolsAndScripts({
      toolsJson: TOOLS,
      context: { tools: [{ name: "rocblas_trace" }, { name: "rpd" }, { name: "miopen_trace" }] },
    });
    expect(result.commandPrefix).toEqual([TRACE, "runTracer.sh"]);
    expect(result.env).toEqual({ ROCBLAS_TRACE: "1", MIOPEN_TRACE: "1" });
  });

  it("keeps tool commands and scripts verbatim (no quoting here)", () => {
    const toolsJson = {
      tools: {
        q: { cmd: `env X="a b" $(which rocprof) --stats`, pre_scripts: [{ path: "a b.sh", args: "'x y'" }] },
      },
    };
    const result = composeToolsAndScripts({ toolsJson, context: { tools: [{ name: "q" }] } });
    expect(result.commandPrefix).toEqual([`env X="a b" $(which rocprof) --stats`]);
    expect(result.preScripts).toEqual([{ path: "a b.sh", args: "'x y'" }]);
  });

  it("does not mutate tools.json or the context across calls", () => {
    const toolsJson = structuredClone(TOOLS);
    const context = { tools: [{ name: "rpd" }], pre_scripts: [{ path: "x.sh" }] };
    const before = JSON.stringify({ toolsJson, context });
    const first = composeToolsAndScripts({ toolsJson, context });
    first.preScripts.push({ path: "rocenv.sh", args: "" });
    const second = composeToolsAndScripts({ toolsJson, context });
    expect(second.preScripts).toHaveLength(2);
    expect(JSON.stringify({ toolsJson, context })).toBe(before);
  });

  it("rejects an unknown tool, listing the known ones and suggesting the nearest", () => {
    const error = thrown(() =>
      composeToolsAndScripts({ toolsJson: TOOLS, context: { tools: [{ name: "rpd" }, { name: "rocprf" }] } }),
    );
    expect(error.message).toBe(
      'unknown tool "rocprf" in context tools[1]; known tools: gpu_info_power_profiler, miopen_trace, rocblas_trace, rocprof, rpd, test_tools_A, test_tools_B',
    );
    expect(error.code).toBe("CONTEXT_INVALID");
    expect(error.path).toBe("tools[1].name");
    expect(error.hint).toContain('"rocprof"');
  });

  it("does not treat Object.prototype names as tools", () => {
    expect(() =>
      composeToolsAndScripts({ toolsJson: TOOLS, context: { tools: [{ name: "constructor" }] } }),
    ).toThrow(/unknown tool "constructor"/);
  });

  it("says when tools are selected but there is no tools.json", () => {
    const error = thrown(() =>
      composeToolsAndScripts({ toolsJson: undefined, context: { tools: [{ name: "rpd" }] } }),
    );
    expect(error.message).toBe(
      'unknown tool "rpd" in context tools[0]: scripts/common/tools.json does not exist, so no tools are known',
    );
  });

  it("uses the given file name in errors", () => {
    expect(() =>
      composeToolsAndScripts({
        toolsJson: { tools: 1 },
        toolsFileName: "x/tools.json",
        context: { tools: [{ name: "a" }] },
      }),
    ).toThrow(/^x\/tools\.json: tools: expected/);
  });

  it("keeps a __proto__ env var name as data", () => {
    const toolsJson = JSON.parse('{"tools": {"t": {"env_vars": {"__proto__": "x", "A": "1"}}}}');
    const env = composeToolsAndScripts({ toolsJson, context: { tools: [{ name: "t" }] } }).env;
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(env.A).toBe("1");
  });
});
