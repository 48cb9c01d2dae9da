import { describe, expect, it } from "vitest";
import {
  buildLogName,
  containerName,
  dockerfileStem,
  localImageName,
  runLogName,
} from "../../../src-main/engine/build/names.js";

const AMD = "docker/dummy.ubuntu.amd.Dockerfile";

/** What the brief asks of an image name: `ci-` then a lower-case name Docker's tag charset allows. */
const LOOSE_IMAGE = /^ci-[a-z0-9][a-z0-9._-]*$/;
/**
 * Docker's own grammar for one path component of a reference (distribution/reference): alphanumerics
 * joined by `.`, `_`, `__` or dashes, never starting or ending with a separator. `docker build -t`
 * rejects anything else with "invalid reference format".
 */
const DOCKER_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

const NASTY_MODELS = [
  "My Model",
  "UPPER/Case",
  "a;rm -rf /",
  "$(touch /tmp/x)",
  "`id`",
  'it\'s "quoted"',
  "x|y&z>w<v",
  "tab\there\nnewline",
  "ünïcode/模型",
  "../../etc/passwd",
  "-leading",
  "_under",
  ".dot",
  "llama 3 - 8b (fast)",
  "a._b",
  "trailing_",
  "trailing.",
  "a...b",
  "a___b",
  "pyt_huggingface_gpt2",
];

describe("names (spec §4.3)", () => {
  it("strips the directory and .Dockerfile suffix", () => {
    expect(dockerfileStem(AMD)).toBe("dummy.ubuntu.amd");
    expect(dockerfileStem("dummy.ubuntu.amd.Dockerfile")).toBe("dummy.ubuntu.amd");
    expect(dockerfileStem("a/b/c/x.Dockerfile")).toBe("x");
    expect(dockerfileStem("docker/Dockerfile.old")).toBe("Dockerfile.old");
  });

  it("builds the table's example names for dummy2/model2", () => {
    const image = localImageName("dummy2/model2", AMD);
    expect(image).toBe("ci-dummy2_model2_dummy.ubuntu.amd");
    expect(buildLogName("dummy2/model2", AMD)).toBe("dummy2_model2_dummy.ubuntu.amd.build.live.log");
    expect(runLogName("dummy2/model2", image)).toBe("dummy2_model2_dummy.ubuntu.amd.run.live.log");
    expect(containerName(image)).toBe("container_ci-dummy2_model2_dummy.ubuntu.amd");
  });

  it("names the MAD dummy models as the original does", () => {
    expect(localImageName("dummy", "docker/dummy.ubuntu.amd.Dockerfile")).toBe("ci-dummy_dummy.ubuntu.amd");
    expect(localImageName("dummy_ctxtest", "docker/dummy_ctxtest.ctx2a.ubuntu.amd.Dockerfile")).toBe(
      "ci-dummy_ctxtest_dummy_ctxtest.ctx2a.ubuntu.amd",
    );
    expect(localImageName("pyt-model", "docker/pyt-model.ubuntu.amd.Dockerfile")).toBe(
      "ci-pyt-model_pyt-model.ubuntu.amd",
    );
  });

  it("replaces '/' and ':' in container names", () => {
    expect(containerName("localhost:5000/ci-x_y")).toBe("container_localhost_5000_ci-x_y");
    expect(containerName("repo/org/img:tag")).toBe("container_repo_org_img_tag");
  });

  it("lower-cases the image name but keeps the model's case in log names", () => {
    const image = localImageName("Dummy2/Model2", AMD);
    expect(image).toBe("ci-dummy2_model2_dummy.ubuntu.amd");
    expect(buildLogName("Dummy2/Model2", AMD)).toBe("Dummy2_Model2_dummy.ubuntu.amd.build.live.log");
    // the original keeps the whole image name here (EDGE in §4.3); the run log mirrors the build log instead
    expect(runLogName("Dummy2/Model2", image)).toBe("Dummy2_Model2_dummy.ubuntu.amd.run.live.log");
  });

  it("lower-cases an upper-case Dockerfile name too, so the tag stays valid", () => {
    expect(localImageName("m", "docker/M.Ubuntu.AMD.Dockerfile")).toBe("ci-m_m.ubuntu.amd");
  });

  it("removes every `ci-` from the image for the run log, as the original", () => {
    expect(runLogName("m", "ci-m_dummy.ubuntu.amd")).toBe("m_dummy.ubuntu.amd.run.live.log");
    expect(runLogName("other", "ci-m_dummy.ubuntu.amd")).toBe("other_m_dummy.ubuntu.amd.run.live.log");
  });

  it("collapses separator runs Docker rejects, keeping `__` and dashes", () => {
    expect(localImageName("llama 3 - 8b (fast)", AMD)).toBe("ci-llama_3_8b__fast__dummy.ubuntu.amd");
    expect(localImageName("a;rm -rf /", AMD)).toBe("ci-a_rm_rf_dummy.ubuntu.amd");
    expect(localImageName("a--b/c__d", AMD)).toBe("ci-a--b_c__d_dummy.ubuntu.amd");
    expect(localImageName("a._b", AMD)).toBe("ci-a_b_dummy.ubuntu.amd");
    expect(localImageName("m", "docker/Weird Name (1).Dockerfile")).toBe("ci-m_weird_name__1");
  });

  it("leaves the run-log suffix of an image it did not name alone", () => {
    expect(runLogName("m", "ci-m-extra_dummy")).toBe("m_m-extra_dummy.run.live.log");
    expect(runLogName("a", "ci-ab_dummy")).toBe("a_ab_dummy.run.live.log");
    expect(runLogName("m", "rocm/pytorch:latest")).toBe("m_rocm_pytorch_latest.run.live.log");
  });

  it.each(NASTY_MODELS)("gives a valid Docker image name for model %j", (model) => {
    for (const dockerfile of [AMD, "docker/Weird Name (1).Dockerfile"]) {
      const image = localImageName(model, dockerfile);
      expect(image).toMatch(LOOSE_IMAGE);
      expect(image.length).toBeLessThanOrEqual(255);
      expect(image.slice("ci-".length), image).toMatch(DOCKER_COMPONENT);
      expect(image).toBe(image.toLowerCase());
    }
  });

  it.each(NASTY_MODELS)("gives file-safe log and container names for model %j", (model) => {
    const image = localImageName(model, AMD);
    for (const name of [buildLogName(model, AMD), runLogName(model, image), containerName(image)]) {
      expect(name).not.toMatch(/[/\\;\s'"$`|&<>()*?!{}[\]]/);
      expect(name).toMatch(/^[A-Za-z0-9._+-]+$/);
      expect(name).not.toBe(".");
      expect(name).not.toBe("..");
    }
    expect(buildLogName(model, AMD).endsWith(".build.live.log")).toBe(true);
    expect(runLogName(model, image).endsWith(".run.live.log")).toBe(true);
    expect(containerName(image)).toMatch(/^container_[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
  });

  it.each(NASTY_MODELS)("names the run log like the build log for model %j", (model) => {
    const image = localImageName(model, AMD);
    expect(runLogName(model, image)).toBe(
      buildLogName(model, AMD).replace(/\.build\.live\.log$/, ".run.live.log"),
    );
  });

  it("keeps distinct models apart in the common case", () => {
    const images = ["a/b", "a_b/c", "dummy", "dummy2/model2", "Dummy3"].map((m) => localImageName(m, AMD));
    expect(new Set(images).size).toBe(images.length);
  });
});
