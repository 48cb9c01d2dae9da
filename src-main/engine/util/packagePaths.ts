import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/**
 * The installed package's root (where package.json and assets/ live). Found by walking up from this
 * module, so it works from the TypeScript sources (tests) and from the compiled dist/ alike.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) || !existsSync(path.join(dir, "assets"))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error("madengine-cli: cannot find its package root (package.json + assets/)");
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

export function assetPath(...segments: string[]): string {
  const inside = path.join(packageRoot(), "assets", ...segments);
  // in the packaged app, assets are unpacked beside the archive: other programs (python3) read them
  return inside.replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`);
}

/** The example model zoo shipped with the tool. */
export function bundledZooPath(): string {
  return assetPath("zoo");
}
