/** A copy of the example zoo and a build manifest for it, as `madengine-cli build --registry` writes one. */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { Context } from "../../../shared/schemas/context.js";
import type { BuildManifest } from "../../../shared/schemas/manifest.js";
import type { ModelEntry } from "../../../shared/schemas/model.js";
import { localImageName } from "../../../src-main/engine/build/names.js";
import { selectModels } from "../../../src-main/engine/discovery/selectModels.js";
import { discoverModels } from "../../../src-main/engine/discovery/zoo.js";
import { repoPath } from "../../helpers/tempDir.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function scratchDir(prefix = "madengine-gen-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function zooCopy(): string {
  const dir = scratchDir("madengine-gen-zoo-");
  cpSync(repoPath("assets", "zoo"), dir, { recursive: true });
  return dir;
}

const hex = (text: string) => createHash("sha256").update(text).digest("hex");

export const REGISTRY = "127.0.0.1:5055";

/** A manifest for `tags` of the zoo at `madRoot`, written to `<dir>/build_manifest.json`. */
export async function writeManifest(
  madRoot: string,
  dir: string,
  tags: string[],
  context: Context = { gpu_vendor: "NONE", guest_os: "UBUNTU" },
  edit: (model: ModelEntry) => ModelEntry = (model) => model,
): Promise<{ file: string; manifest: BuildManifest }> {
  const zoo = await discoverModels(madRoot);
  const manifest: BuildManifest = {
    schema_version: 1,
    built_images: {},
    built_models: {},
    context: { docker_env_vars: {}, docker_mounts: {}, docker_build_arg: {}, ...context },
    credentials_required: [],
    registry: REGISTRY,
  };
  for (const { model } of selectModels(zoo, tags)) {
    const image = localImageName(model.name, "docker/dummy.ubuntu.none.Dockerfile");
    manifest.built_images[image] = {
      docker_image: image,
      dockerfile: "docker/dummy.ubuntu.none.Dockerfile",
      base_docker: "madengine-zoo-base:latest",
      docker_sha: `sha256:${hex("base")}`,
      build_duration: 1.5,
      build_command: `docker build -t ${image} ./docker`,
      log_file: `${image}.build.live.log`,
      image_id: `sha256:${hex(`id ${image}`)}`,
      registry_image: `${REGISTRY}/${image}`,
      registry_digest: `sha256:${hex(`digest ${image}`)}`,
    };
    manifest.built_models[image] = edit(model);
  }
  const file = path.join(dir, "build_manifest.json");
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return { file, manifest };
}
