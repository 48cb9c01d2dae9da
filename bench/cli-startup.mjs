// Benchmark: whole-process time of `madengine-cli --help` and `discover --tags all` on the bundled
// zoo, next to `node -e 0` measured in the same process, as ratios. Target: --help <= 0.15 s.
// Usage: npm run build && node bench/cli-startup.mjs [runs]
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printNodeStartNote, printRows, timeProcess } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(repo, "bin", "madengine-cli");
const zoo = path.join(repo, "assets", "zoo");
const runs = Number(process.argv[2] ?? 15);

const baseline = timeProcess(process.execPath, ["-e", "0"], { runs });
const help = timeProcess(process.execPath, [cli, "--help"], { runs });
const discoverAll = timeProcess(process.execPath, [cli, "discover", "--tags", "all", "--mad-root", zoo], {
  runs,
});
const discoverStatic = timeProcess(
  process.execPath,
  [cli, "discover", "--tags", "all", "--mad-root", path.join(repo, "test", "fixtures", "mad")],
  { runs },
);

console.log(`madengine-cli startup (${runs} runs each, node ${process.version})`);
printRows([
  { name: "node -e 0 (baseline)", ...baseline, ratio: 1 },
  {
    name: "madengine-cli --help",
    ...help,
    ratio: help.median / baseline.median,
    target: "<= 0.150 s",
    ok: help.median <= 0.15,
  },
  {
    name: "discover --tags all (bundled zoo, get_models_json.py from the discovery cache)",
    ...discoverAll,
    ratio: discoverAll.median / baseline.median,
  },
  {
    name: "discover --tags all (37-model MAD fixture)",
    ...discoverStatic,
    ratio: discoverStatic.median / baseline.median,
  },
]);
printNodeStartNote("node bench/cli-startup.mjs");
