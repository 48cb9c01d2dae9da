/**
 * The testbed's nodes have no GPU. To show GPU health end to end, ONE node can get an `nvidia-smi`
 * early in its PATH (through the node's ~/.bashrc, which bash reads for ssh commands) that REPLAYS
 * real output captured on an H100 machine (/work/shared/fixtures/gpu, see its README for the
 * source): the `--query-gpu` form the prober uses (the captured cells picked by field name, units
 * removed, as `--format=csv,noheader,nounits` prints them) and the plain banner. Nothing here
 * measures a GPU; the figures are the captured ones.
 */
import { readFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { NVIDIA_QUERY_FIELDS } from "../../src-main/engine/context/gpu/nvidiaSmi.js";
import type { Testbed } from "./testbed.js";

const FIXTURES = process.env.MADENGINE_GPU_FIXTURES ?? "/work/shared/fixtures/gpu";
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

/** What the H100 capture prints for the prober's query (the same cells, by name). */
export function replayedQueryOutput(): string {
  const [header = "", values = ""] = fixture("nvidia-smi-query-gpu-h100-590.csv").split("\n");
  const names = header.split(", ").map((name) => name.replace(/ \[.*\]$/, ""));
  const cells = values.split(", ");
  return `${NVIDIA_QUERY_FIELDS.map((field) => cells[names.indexOf(field)]?.replace(/ (MiB|%|W)$/, "")).join(", ")}\n`;
}

/** The captured GPU, as the app should show it. */
export const REPLAYED_GPU = { name: "NVIDIA H100 80GB HBM3", utilizationPercent: 100, temperatureC: 59 };

/** Installs the replaying nvidia-smi on one testbed node; returns the undo. */
export async function installReplayedNvidiaSmi(
  testbed: Testbed,
  nodeName: string,
): Promise<() => Promise<void>> {
  const home = path.join(testbed.dir, "nodes", nodeName, "home");
  const bin = path.join(home, ".replayed-gpu");
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, "query.csv"), replayedQueryOutput());
  await writeFile(path.join(bin, "banner.txt"), fixture("nvidia-smi-h100-590-load.txt"));
  const script = `#!/bin/sh
# REPLAY, not a GPU: prints output captured on a real H100 (madengine test fixture)
d=${JSON.stringify(bin)}
case "$1" in
  --query-gpu=*) cat "$d/query.csv" ;;
  -L) exit 0 ;;
  "") cat "$d/banner.txt" ;;
  *) echo "replayed nvidia-smi: no capture for: $*" >&2; exit 2 ;;
esac
`;
  await writeFile(path.join(bin, "nvidia-smi"), script);
  await chmod(path.join(bin, "nvidia-smi"), 0o755);
  const bashrc = path.join(home, ".bashrc");
  await writeFile(bashrc, `export PATH=${JSON.stringify(bin)}:$PATH\n`);
  return async () => {
    await rm(bashrc, { force: true });
    await rm(bin, { recursive: true, force: true });
  };
}
