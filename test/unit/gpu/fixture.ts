import { readFileSync } from "node:fs";

/** The text of a captured tool output under test/fixtures/gpu. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/gpu/${name}`, import.meta.url), "utf8");
}
