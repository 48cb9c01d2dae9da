import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// the results history, nodes and audit log of anything a test starts without naming a data
// directory land here, never in the user's own ~/.local/share
// (and the discovery cache of get_models_json.py outputs in $XDG_CACHE_HOME, never in ~/.cache)
const env = {
  XDG_DATA_HOME: mkdtempSync(path.join(os.tmpdir(), "madengine-test-data-")),
  XDG_CACHE_HOME: mkdtempSync(path.join(os.tmpdir(), "madengine-test-cache-")),
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          env,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          env,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // integration tests share one dockerd and registry: keep them in one worker, one file at a time
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          env,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
