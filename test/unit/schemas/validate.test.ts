import { describe, expect, it } from "vitest";
import { modelsFileSchema } from "../../../shared/schemas/model.js";
import {
  formatJsonPath,
  lineAndColumn,
  parseJsonText,
  validateWithSchema,
} from "../../../shared/schemas/validate.js";
import { thrown } from "../../helpers/errors.js";

describe("parseJsonText", () => {
  it("reports the line and column of a syntax error", () => {
    const text = '[\n  {"name": "a",\n   "tags": ["x" "y"]}\n]';
    const error = thrown(() => parseJsonText(text, "models.json"));
    expect(error.message).toMatch(/^models\.json: not valid JSON at line 3, column 17/);
    expect(error.file).toBe("models.json");
    expect(error.hint).toContain("line 3, column 17");
  });

  it("reports truncated input at its end", () => {
    const error = thrown(() => parseJsonText('[{"name": "a"', "m.json"));
    expect(error.message).toMatch(/line 1, column 1[34]/);
  });

  it("parses valid JSON", () => {
    expect(parseJsonText('{"a": [1]}', "x")).toEqual({ a: [1] });
  });
});

describe("lineAndColumn", () => {
  it("counts from one", () => {
    expect(lineAndColumn("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
  });
});

describe("formatJsonPath", () => {
  it("writes array indices, identifiers and odd keys readably", () => {
    expect(formatJsonPath([3, "n_gpus"])).toBe("[3].n_gpus");
    expect(formatJsonPath(["built_images", "ci-a_b.ubuntu", "docker_sha"])).toBe(
      'built_images["ci-a_b.ubuntu"].docker_sha',
    );
    expect(formatJsonPath([])).toBe("(top level)");
  });
});

describe("validateWithSchema", () => {
  it("names the file, the path, what was expected and what was found", () => {
    const data = [
      { name: "ok", dockerfile: "docker/x", scripts: "s.sh", n_gpus: "1" },
      { name: "bad", dockerfile: "d", scripts: "s", n_gpus: 2 },
    ];
    const error = thrown(() => validateWithSchema(modelsFileSchema, data, { file: "scripts/x/models.json" }));
    expect(error.message).toContain("scripts/x/models.json: [1].n_gpus");
    expect(error.message).toContain("expected a value of type string");
    expect(error.message).toContain("found number 2");
    expect(error.path).toBe("[1].n_gpus");
    expect(error.hint).toContain("[1].n_gpus");
    expect(error.exitCode).toBe(1);
  });

  it("says when a required field is missing and counts further problems", () => {
    const error = thrown(() =>
      validateWithSchema(modelsFileSchema, [{ name: "x" }], { file: "models.json" }),
    );
    expect(error.message).toMatch(
      /\[0\]\.dockerfile: expected a value of type string, found nothing \(the field is missing\) \(and 2 more problems\)/,
    );
  });
});
