// Builds the LogViewer harness page (tests and bench only) into the folder given as MADENGINE_HARNESS_OUT.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir:
      process.env.MADENGINE_HARNESS_OUT ??
      fileURLToPath(new URL("../../dist/renderer-harness", import.meta.url)),
    emptyOutDir: true,
    target: "chrome120",
  },
});
