import { describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { discoverModels } from "../../../src-main/engine/discovery/zoo.js";
import { bundledZooPath } from "../../../src-main/engine/util/packagePaths.js";
import { fixturePath, tempTree } from "../../helpers/tempDir.js";

const model = (name: string, extra: object = {}) => ({
  name,
  dockerfile: "docker/dummy",
  scripts: "scripts/dummy/run.sh",
  n_gpus: "1",
  tags: ["t"],
  args: "",
  ...extra,
});

async function discoveryError(root: string): Promise<MadError> {
  try {
    await discoverModels(root);
  } catch (error) {
    if (error instanceof MadError) return error;
    throw error;
  }
  throw new Error("expected discovery to fail");
}

const dynamicFile = (body: string) => `from madengine.tools.discover_models import CustomModel\n${body}\n`;

describe("discoverModels", () => {
  it("reads the 37 real MAD models in file order", async () => {
    const zoo = await discoverModels(fixturePath("mad"));
    expect(zoo.models).toHaveLength(37);
    expect(zoo.models[0]!.model.name).toBe("pyt_huggingface_gpt2");
    expect(zoo.models.at(-1)!.model.name).toBe("dummy_multi");
  });

  it("names sub-directory models dir/name and rewrites their paths relative to the root", async () => {
    const root = tempTree({
      "models.json": [model("root_model")],
      "scripts/zeta/models.json": [
        model("z1", { dockerfile: "../../docker/dummy", scripts: "run.sh", multiple_results: "perf.csv" }),
      ],
      "scripts/alpha/models.json": [model("a1", { dockerfile: "../../docker/alpha", scripts: "sub/run.sh" })],
    });
    const zoo = await discoverModels(root);
    expect(zoo.models.map((m) => m.model.name)).toEqual(["root_model", "alpha/a1", "zeta/z1"]);
    const z1 = zoo.models[2]!.model;
    expect(z1.dockerfile).toBe("docker/dummy");
    expect(z1.scripts).toBe("scripts/zeta/run.sh");
    expect(z1.multiple_results).toBe("perf.csv");
    expect(zoo.models[1]!.model.scripts).toBe("scripts/alpha/sub/run.sh");
    expect(zoo.models[2]!.source).toEqual({ kind: "subdir", dir: "zeta", file: "scripts/zeta/models.json" });
  });

  it("runs get_models_json.py files that import madengine's CustomModel, calling update_model()", async () => {
    const root = tempTree({
      "models.json": [model("root_model")],
      "scripts/gen/get_models_json.py": dynamicFile(
        [
          "class Mine(CustomModel):",
          "    def update_model(self):",
          "        self.args = self.args + ' --updated'",
          "def list_models():",
          "    print('noise on stdout must not break discovery')",
          "    return [Mine(name='g1', dockerfile='../../docker/gen', scripts='run.sh', n_gpus='2', tags=['gen'])]",
        ].join("\n"),
      ),
    });
    const zoo = await discoverModels(root);
    const g1 = zoo.models.find((m) => m.model.name === "gen/g1")!;
    expect(g1.model).toMatchObject({
      dockerfile: "docker/gen",
      scripts: "scripts/gen/run.sh",
      n_gpus: "2",
      args: " --updated",
      timeout: 7200,
    });
    expect(g1.source.kind).toBe("dynamic");
  });

  it("discovers the bundled example zoo: root, sub-directory and dynamic models", async () => {
    const zoo = await discoverModels(bundledZooPath());
    const names = zoo.models.map((m) => m.model.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "dummy",
        "dummy_multi",
        "dummy_fail",
        "dummy_sleep",
        "variant",
        "family/model_a",
        "dynamic/gen_small",
      ]),
    );
    const generated = zoo.models.find((m) => m.model.name === "dynamic/gen_large")!.model;
    expect(generated.tags).toContain("generated");
    expect(generated.dockerfile).toBe("docker/dummy");
    expect(generated.scripts).toBe("scripts/dynamic/run_gen.sh");
  });

  describe("bad input", () => {
    it("a missing models.json says the folder is not a MAD root", async () => {
      const error = await discoveryError(tempTree({ "scripts/x/run.sh": "" }));
      expect(error.code).toBe("FILE_NOT_FOUND");
      expect(error.message).toMatch(/models\.json: file not found/);
      expect(error.hint).toMatch(/not a MAD root.*--mad-root/);
    });

    it("a MAD root that does not exist", async () => {
      const error = await discoveryError("/nonexistent/mad");
      expect(error.message).toContain("/nonexistent/mad is not a directory");
    });

    it("malformed JSON in a sub-directory models.json reports file, line and column", async () => {
      const error = await discoveryError(
        tempTree({ "models.json": [], "scripts/bad/models.json": '[\n  {"name": "x",}\n]' }),
      );
      expect(error.message).toMatch(/^scripts\/bad\/models\.json: not valid JSON at line 2, column 16/);
    });

    it("a wrong field type names the file, the entry and the field", async () => {
      const error = await discoveryError(
        tempTree({ "models.json": [model("a"), model("b", { n_gpus: 8 })] }),
      );
      expect(error.message).toContain(
        "models.json: [1].n_gpus: expected a value of type string, found number 8",
      );
    });

    it("both models.json and get_models_json.py in one sub-directory", async () => {
      const error = await discoveryError(
        tempTree({
          "models.json": [],
          "scripts/both/models.json": [],
          "scripts/both/get_models_json.py": "def list_models(): return []",
        }),
      );
      expect(error.message).toBe(
        "scripts/both has both models.json and get_models_json.py; a sub-directory may have only one",
      );
    });

    it("a get_models_json.py that raises quotes the Python error", async () => {
      const error = await discoveryError(
        tempTree({
          "models.json": [],
          "scripts/boom/get_models_json.py": "def list_models():\n    raise RuntimeError('zoo exploded')\n",
        }),
      );
      expect(error.message).toMatch(/^scripts\/boom\/get_models_json\.py: failed with exit code 1:/);
      expect(error.message).toContain("RuntimeError: zoo exploded");
    });

    it("a get_models_json.py that hangs is stopped after its timeout", async () => {
      const root = tempTree({
        "models.json": [],
        "scripts/slow/get_models_json.py": "import time\ntime.sleep(60)\n",
      });
      const started = Date.now();
      await expect(discoverModels(root, { timeoutMs: 1000 })).rejects.toThrow(
        "scripts/slow/get_models_json.py: did not finish within 1 s and was stopped",
      );
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("a missing python3 is named with the fix", async () => {
      const root = tempTree({
        "models.json": [],
        "scripts/d/get_models_json.py": "def list_models(): return []",
      });
      await expect(discoverModels(root, { python: "/nonexistent/python3" })).rejects.toThrow(
        /'\/nonexistent\/python3' was not found/,
      );
    });

    it("a list_models() returning a wrong shape is validated like a models.json", async () => {
      const root = tempTree({
        "models.json": [],
        "scripts/d/get_models_json.py": "def list_models():\n    return [{'name': 'x'}]\n",
      });
      await expect(discoverModels(root)).rejects.toThrow(
        /scripts\/d\/get_models_json\.py \(list_models\): \[0\]\.dockerfile/,
      );
    });

    it("duplicate model names name both files", async () => {
      const error = await discoveryError(
        tempTree({ "models.json": [model("same"), model("other"), model("same")] }),
      );
      expect(error.message).toBe(
        'duplicate model name "same": defined in models.json and again in models.json at [2]',
      );
    });
  });
});
