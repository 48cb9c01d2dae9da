/**
 * Names of images, logs and containers, as the original derives them (spec §4.3), made safe: a
 * character Docker does not allow in an image name becomes `_`.
 */

/** `docker/dummy.ubuntu.amd.Dockerfile` -> `dummy.ubuntu.amd`. */
export function dockerfileStem(dockerfile: string): string {
  const base = dockerfile.split("/").pop() ?? dockerfile;
  return base.replace(/\.Dockerfile$/, "");
}

function modelSlug(modelName: string): string {
  return modelName.replaceAll("/", "_");
}

function toImageComponent(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, "_")
      // Docker joins alphanumerics only with `.`, `_`, `__` or dashes, and no separator at either end
      .replace(/[._-]{2,}/g, (run) => (run === "__" || /^-+$/.test(run) ? run : "_"))
      .replace(/^[._-]+|[._-]+$/g, "")
  );
}

/** Local image tag: `ci-<model>_<dockerfile stem>`, lower-case. */
export function localImageName(modelName: string, dockerfile: string): string {
  return `ci-${toImageComponent(`${modelSlug(modelName)}_${dockerfileStem(dockerfile)}`)}`;
}

/** File-system safe form of a name (model names may hold anything but '/' is common). */
function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._+-]/g, "_");
}

/** `<model>_<stem>.build.live.log`. */
export function buildLogName(modelName: string, dockerfile: string): string {
  return `${fileSafe(`${modelSlug(modelName)}_${dockerfileStem(dockerfile)}`)}.build.live.log`;
}

/** `<model>_<image without ci- and model prefix>.run.live.log`. */
export function runLogName(modelName: string, image: string): string {
  const slug = modelSlug(modelName);
  let suffix = image.replaceAll("ci-", "");
  const prefix = toImageComponent(slug);
  const rest = suffix.slice(prefix.length);
  // the model/stem joint always collapses to `_` or `__` (the model's own trailing separators included)
  if (prefix !== "" && suffix.startsWith(prefix) && rest.startsWith("_")) suffix = rest.replace(/^_+/, "");
  return `${fileSafe(`${slug}_${suffix}`)}.run.live.log`;
}

export function containerName(image: string): string {
  return `container_${image.replace(/[/:]/g, "_")}`;
}
