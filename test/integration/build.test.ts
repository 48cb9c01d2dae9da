import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { buildManifestSchema } from "../../shared/schemas/manifest.js";
import { buildSummarySchema } from "../../shared/schemas/summaries.js";
import { readProgressStream } from "../../src-main/engine/docker/progressStream.js";
import { runCli, zooWorkspaces } from "../helpers/cli.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const CENTOS = '{"gpu_vendor": "NONE", "guest_os": "CENTOS"}';

let testbed: Testbed;
let docker: Docker;
const workspace = zooWorkspaces();

beforeAll(() => {
  testbed = loadTestbed();
  docker = new Docker({ socketPath: testbed.dockerSocket });
});

function build(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(["build", ...args], { cwd, env: { DOCKER_HOST: testbed.dockerHost, ...env } });
}

function readManifest(cwd: string) {
  return buildManifestSchema.parse(JSON.parse(readFileSync(path.join(cwd, "build_manifest.json"), "utf8")));
}

function readSummary(file: string) {
  return buildSummarySchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

function addModels(zoo: string, models: object[]): void {
  const file = path.join(zoo, "models.json");
  const current = JSON.parse(readFileSync(file, "utf8")) as object[];
  writeFileSync(file, JSON.stringify([...current, ...models], null, 2));
}

const model = (name: string, extra: object) => ({
  name,
  dockerfile: "docker/dummy",
  scripts: "scripts/dummy/run.sh",
  n_gpus: "1",
  tags: ["bad"],
  args: "",
  ...extra,
});

describe("madengine-cli build on the real daemon and registry", () => {
  it("builds the zoo, pushes every image and records digests that pull back to the same image", async () => {
    const { zoo, cwd } = workspace();
    const result = await build(
      [
        "--mad-root",
        zoo,
        "--tags",
        "dummies",
        "variants",
        "-c",
        UBUNTU,
        "--registry",
        testbed.registry,
        "--clean-docker-cache",
        "-s",
        "summary.json",
      ],
      cwd,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const manifest = readManifest(cwd);
    expect(manifest.schema_version).toBe(1);
    expect(manifest.registry).toBe(testbed.registry);
    const images = Object.keys(manifest.built_images);
    expect(images).toEqual([
      "ci-dummy_dummy.ubuntu.none",
      "ci-dummy_multi_dummy.ubuntu.none",
      "ci-dummy_args_dummy.ubuntu.none",
      "ci-variant_variant.ubuntu.none",
      "ci-family_model_a_dummy.ubuntu.none",
      "ci-family_model_b_dummy.ubuntu.none",
      "ci-dynamic_gen_small_dummy.ubuntu.none",
      "ci-dynamic_gen_large_dummy.ubuntu.none",
    ]);
    expect(Object.keys(manifest.built_models)).toEqual(images);
    expect(manifest.built_models["ci-family_model_a_dummy.ubuntu.none"]!.name).toBe("family/model_a");
    for (const info of Object.values(manifest.built_images)) {
      expect(info.registry_image).toBe(`${testbed.registry}/${info.docker_image}`);
      expect(info.registry_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(info.base_docker).toBe("madengine-zoo-base:latest");
      const log = readFileSync(path.join(cwd, info.log_file), "utf8");
      expect(log).toContain(`MAD_CONTAINER_IMAGE is ${info.docker_image}`);
      expect(log).toMatch(/Step 1\/\d+ : ARG BASE_DOCKER/);
    }
    const summary = readSummary(path.join(cwd, "summary.json"));
    expect(summary.successful_builds).toHaveLength(8);
    expect(summary.failed_builds).toEqual([]);

    // manifest-true: pull by the recorded digest and compare the image id
    const info = manifest.built_images["ci-dummy_dummy.ubuntu.none"]!;
    const byDigest = `${info.registry_image}@${info.registry_digest}`;
    await docker
      .getImage(info.registry_image!)
      .remove()
      .catch(() => {});
    const pull = await docker.pull(byDigest);
    const outcome = await readProgressStream(pull, () => {});
    expect(outcome.error).toBeUndefined();
    const pulled = await docker.getImage(byDigest).inspect();
    expect(pulled.Id).toBe(info.image_id);
  });

  it("selects the Dockerfile variant by the context's guest_os", async () => {
    const { zoo, cwd } = workspace();
    for (const [context, flavour] of [
      [CENTOS, "centos"],
      [UBUNTU, "ubuntu"],
    ] as const) {
      const result = await build(["--mad-root", zoo, "--tags", "variant", "-c", context], cwd);
      expect(result.code).toBe(0);
      const manifest = readManifest(cwd);
      const [image] = Object.keys(manifest.built_images);
      expect(image).toBe(`ci-variant_variant.${flavour}.none`);
      expect(manifest.built_images[image!]!.dockerfile).toBe(`docker/variant.${flavour}.none.Dockerfile`);
      const inspected = await docker.getImage(image!).inspect();
      expect(inspected.Config.Env).toContain(`VARIANT_FLAVOUR=${flavour}`);
    }
  });

  it("skips an unchanged image, rebuilds after a context change and with --clean-docker-cache", async () => {
    const { zoo, cwd } = workspace();
    const args = ["--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU, "-s", "summary.json"];
    const summaryFile = path.join(cwd, "summary.json");

    expect((await build(args, cwd)).code).toBe(0);
    const first = readSummary(summaryFile).successful_builds[0]!;

    const again = await build(args, cwd);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("up to date");
    const second = readSummary(summaryFile).successful_builds[0]!;
    expect(second.up_to_date).toBe(true);
    expect(second.build_info.image_id).toBe(first.build_info.image_id);

    writeFileSync(path.join(zoo, "docker", "extra-input.txt"), `changed ${Date.now()}\n`);
    expect((await build(args, cwd)).code).toBe(0);
    const changed = readSummary(summaryFile).successful_builds[0]!;
    expect(changed.up_to_date).toBeUndefined();
    // the id recorded is the image the daemon now has under that name, labelled with its inputs hash
    const image = await docker.getImage(changed.build_info.docker_image).inspect();
    expect(changed.build_info.image_id).toBe(image.Id);
    expect(image.Id).not.toBe(first.build_info.image_id);
    expect(image.Config.Labels?.["org.madengine.inputs-hash"]).toMatch(/^[0-9a-f]{64}$/);

    writeFileSync(path.join(zoo, "docker", "notes.md"), "ignored by .dockerignore\n");
    expect((await build(args, cwd)).code).toBe(0);
    expect(readSummary(summaryFile).successful_builds[0]!.up_to_date).toBe(true);

    const clean = await build([...args, "--clean-docker-cache"], cwd);
    expect(clean.code).toBe(0);
    const rebuilt = readSummary(summaryFile).successful_builds[0]!;
    expect(rebuilt.up_to_date).toBeUndefined();
    expect(rebuilt.build_info.build_command).toContain("--no-cache");
  });

  it("makes the zoo's base image (FROM scratch + the host's busybox) when the daemon lacks it", async () => {
    const { zoo, cwd } = workspace();
    const args = ["--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU, "-s", "summary.json"];
    expect((await build(args, cwd)).code).toBe(0);
    // untagged only: the images built on it keep their layers
    await docker.getImage("madengine-zoo-base:latest").remove();
    await expect(docker.getImage("madengine-zoo-base:latest").inspect()).rejects.toMatchObject({
      statusCode: 404,
    });

    const result = await build(args, cwd);
    expect(result.code, result.stderr).toBe(0);
    const base = await docker.getImage("madengine-zoo-base:latest").inspect();
    expect(base.Config.Labels?.["org.madengine.role"]).toBe("zoo-base");
    const built = readSummary(path.join(cwd, "summary.json")).successful_builds[0]!;
    const log = readFileSync(path.join(cwd, built.build_info.log_file), "utf8");
    expect(log).toContain("making base image madengine-zoo-base:latest from ");
    expect(log).toContain(`BASE DOCKER SHA is ${base.Id}`);
  });

  it("pushes with credentials from credential.json and leaks no secret into any output", async () => {
    const { zoo, cwd } = workspace();
    const registryPassword = testbed.authRegistry.password;
    const credPassword = "planted-cred-password-7f3a";
    const envSecret = "planted-env-secret-91bd";
    writeFileSync(
      path.join(zoo, "credential.json"),
      JSON.stringify({
        [testbed.authRegistry.address]: {
          username: testbed.authRegistry.username,
          password: registryPassword,
        },
        ZOO_CRED: { username: "zoo-user", password: credPassword },
      }),
    );
    addModels(zoo, [model("dummy_cred", { tags: ["cred"], cred: "ZOO_CRED" })]);
    const result = await build(
      [
        "--mad-root",
        zoo,
        "--tags",
        "cred",
        "dummy",
        "-c",
        UBUNTU,
        "--registry",
        testbed.authRegistry.address,
        "--live-output",
        "-s",
        "summary.json",
        "--verbose",
      ],
      cwd,
      { MAD_SECRETS_TOKEN: envSecret },
    );
    expect(result.code).toBe(0);
    const manifest = readManifest(cwd);
    expect(manifest.credentials_required).toEqual(["ZOO_CRED"]);
    for (const info of Object.values(manifest.built_images)) expect(info.registry_digest).toMatch(/^sha256:/);
    expect(manifest.built_images["ci-dummy_cred_dummy.ubuntu.none"]!.build_command).toContain(
      "ZOO_CRED_PASSWORD=***",
    );
    expect(result.stderr + result.stdout).toContain(
      "passed as build args, which stay visible in the image history",
    );

    const everything = [result.stdout, result.stderr];
    for (const name of readdirSync(cwd)) everything.push(readFileSync(path.join(cwd, name), "utf8"));
    for (const secret of [registryPassword, credPassword, envSecret]) {
      for (const text of everything) expect(text).not.toContain(secret);
    }
    expect(readdirSync(cwd).length).toBeGreaterThanOrEqual(4);
  });

  it("wrong registry credentials: exit 2, the registry's message under push_failures, manifest kept", async () => {
    const { zoo, cwd } = workspace();
    writeFileSync(
      path.join(zoo, "credential.json"),
      JSON.stringify({
        [testbed.authRegistry.address]: {
          username: testbed.authRegistry.username,
          password: "wrong-password",
        },
      }),
    );
    const result = await build(
      ["--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU, "--registry", testbed.authRegistry.address],
      cwd,
    );
    expect(result.code).toBe(2);
    const manifest = readManifest(cwd);
    expect(manifest.push_failures).toHaveLength(1);
    expect(manifest.push_failures![0]!.error).toMatch(
      /unauthorized|authentication required|no basic auth credentials/i,
    );
    expect(manifest.built_images["ci-dummy_dummy.ubuntu.none"]!.push_failed).toBe(true);
    expect(result.stdout).toContain("push failed");
  });

  it("a registry that refuses connections fails within 5 s, naming the registry", async () => {
    const { zoo, cwd } = workspace();
    const dead = "127.0.0.1:9";
    const result = await build(["--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU, "--registry", dead], cwd);
    expect(result.code).toBe(2);
    expect(result.seconds).toBeLessThan(5);
    expect(result.stdout).toContain(`registry ${dead} is unreachable: ${dead} refused the connection`);
    expect(readManifest(cwd).push_failures![0]!.intended_registry_image).toBe(
      `${dead}/ci-dummy_dummy.ubuntu.none`,
    );
  });

  it("reports every kind of broken model and still writes a manifest for the images that built", async () => {
    const { zoo, cwd } = workspace();
    writeFileSync(
      path.join(zoo, "docker", "badheader.ubuntu.none.Dockerfile"),
      "# CONTEXT {'gpu_vendor': 'NONE'\nFROM scratch\n",
    );
    writeFileSync(
      path.join(zoo, "docker", "failing.ubuntu.none.Dockerfile"),
      "# CONTEXT {'gpu_vendor': 'NONE', 'guest_os': 'UBUNTU'}\nARG BASE_DOCKER=madengine-zoo-base:latest\nFROM $BASE_DOCKER\nRUN echo step-three-ran\nRUN echo about to fail && exit 7\n",
    );
    writeFileSync(
      path.join(zoo, "docker", "amdonly.ubuntu.amd.Dockerfile"),
      "# CONTEXT {'gpu_vendor': 'AMD'}\nFROM scratch\n",
    );
    addModels(zoo, [
      model("bad_nofamily", { dockerfile: "docker/nothing" }),
      model("bad_header", { dockerfile: "docker/badheader" }),
      model("bad_context", { dockercontext: "./nope" }),
      model("bad_step", { dockerfile: "docker/failing" }),
      model("bad_target", { dockerfile: "docker/amdonly" }),
    ]);
    const result = await build(
      ["--mad-root", zoo, "--tags", "dummy", "bad", "-c", UBUNTU, "-s", "summary.json"],
      cwd,
    );
    expect(result.code).toBe(2);
    const summary = readSummary(path.join(cwd, "summary.json"));
    const errors = Object.fromEntries(summary.failed_builds.map((failure) => [failure.model, failure.error]));
    expect(errors.bad_nofamily).toContain("no Dockerfile matches docker/nothing.*");
    expect(errors.bad_header).toContain(
      "docker/badheader.ubuntu.none.Dockerfile: malformed '# CONTEXT' header",
    );
    expect(errors.bad_context).toContain("build context directory ./nope does not exist");
    expect(errors.bad_step).toMatch(
      /^Step 4\/\d+ : RUN echo about to fail && exit 7: .*returned a non-zero code: 7/,
    );
    expect(errors.bad_target).toContain(
      "no Dockerfile of docker/amdonly.* matches the context (gpu_vendor=NONE)",
    );
    expect(result.stdout).toContain("about to fail");
    const manifest = readManifest(cwd);
    expect(Object.keys(manifest.built_images)).toEqual(["ci-dummy_dummy.ubuntu.none"]);
  });

  it("bad arguments: unknown tag (1), missing target (4), Docker not running (1, names DOCKER_HOST)", async () => {
    const { zoo, cwd } = workspace();
    const unknown = await build(["--mad-root", zoo, "--tags", "dumy", "-c", UBUNTU], cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no model matches tag "dumy"');
    expect(unknown.stderr).toContain('did you mean "dummy"');

    const noTarget = await build(["--mad-root", zoo, "--tags", "dummy", "-c", '{"gpu_vendor": "NONE"}'], cwd);
    expect(noTarget.code).toBe(4);
    expect(noTarget.stderr).toContain("the build context lacks guest_os");

    const socket = path.join(tmpdir(), "madengine-no-docker.sock");
    const noDocker = await build(["--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU], cwd, {
      DOCKER_HOST: `unix://${socket}`,
    });
    expect(noDocker.code).toBe(1);
    expect(noDocker.stderr).toContain(`cannot reach the Docker daemon at unix://${socket}`);
    expect(noDocker.stderr).toContain(`DOCKER_HOST=unix://${socket}`);
    expect(noDocker.stderr).toContain("start Docker");
    expect(() => statSync(path.join(cwd, "build_manifest.json"))).toThrow();
  });
});
