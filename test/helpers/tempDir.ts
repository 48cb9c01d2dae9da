import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";

const created: string[] = [];

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory populated with `files` (path -> content; objects are written as JSON). */
export function tempTree(files: Record<string, string | object> = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), "madengine-test-"));
  created.push(root);
  for (const [relative, content] of Object.entries(files)) {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

export function fixturePath(...segments: string[]): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", ...segments);
}

export function repoPath(...segments: string[]): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", ...segments);
}
