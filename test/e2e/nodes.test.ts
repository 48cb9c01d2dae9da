/**
 * End to end: the Nodes screen in Chromium against the real `madengine-cli serve` (its own data
 * directory and known_hosts) and the testbed's sshd nodes. Nodes are added through the form (a bad
 * port first: the engine's message shows under the field), trusted through the host-key dialog (the
 * fingerprint shown is the testbed's), their cards turn healthy with the Docker version; node1 shows
 * GPU bars from a REPLAYED captured nvidia-smi output (no GPU exists here, see
 * test/helpers/replayedGpu.ts); a node on a closed port explains why; preflight shows per-check
 * results; a changed key gets the refusal view; leaving the screen stops polling and the SSH
 * connections close. Screenshots go to test-results/screenshots/nodes-*.png.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installReplayedNvidiaSmi, REPLAYED_GPU } from "../helpers/replayedGpu.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";
import { type Browser, launchBrowser, SCREENSHOT_DIR, watchCspViolations } from "./helpers/browser.js";
import { absent, hasAttribute, hasText, visible } from "./helpers/expectations.js";
import { buildRenderer } from "./helpers/pages.js";
import { type Served, startServe, stopServe } from "./helpers/serve.js";

const RENDERER_DIR = path.resolve("dist/renderer");

let testbed: Testbed;
let scratch: string;
let browser: Browser;
let page: Page;
let served: Served;
let cspViolations: () => Promise<string[]>;
let undoGpu: () => Promise<void>;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `nodes-${name}.png`), fullPage: true });
}

const panel = () => page.locator("#panel-nodes");
const card = (name: string) => panel().locator(`li.node-card[data-node="${name}"]`);

function openSshConnections(host: string, port: number): number {
  const out = execFileSync("ss", ["-Htn", "state", "established", "dst", `${host}:${port}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((line) => line.trim() !== "").length;
}

async function fill(dialog: Locator, label: string, value: string): Promise<void> {
  await dialog.getByLabel(label, { exact: true }).fill(value);
}

async function addNode(fields: Record<string, string>): Promise<void> {
  await panel().getByRole("button", { name: "Add node" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a node" });
  await visible(dialog);
  for (const [label, value] of Object.entries(fields)) await fill(dialog, label, value);
  await dialog.getByRole("button", { name: "Add node" }).click();
  await absent(dialog);
}

function nodeFields(index: number, extra: Record<string, string> = {}): Record<string, string> {
  const node = testbed.nodes[index]!;
  return {
    Name: node.name,
    Host: node.host,
    Port: String(node.port),
    User: node.user,
    "Identity file (private key)": node.privateKeyPath,
    "Docker socket on the node": testbed.dockerSocket,
    "Labels (key=value, comma separated)": `rack=${index % 2 === 0 ? "a" : "b"}, gpu=${index === 0 ? "h100-replayed" : "none"}`,
    ...extra,
  };
}

async function trustThroughDialog(name: string, fingerprint: string, screenshot?: string): Promise<void> {
  await card(name).getByRole("button", { name: "Host key…" }).click();
  const dialog = page.getByRole("dialog", { name: `Host key of ${name}` });
  await visible(dialog);
  await hasText(dialog.getByTestId("key-fingerprint"), fingerprint);
  await hasText(dialog.getByTestId("key-type"), "ssh-ed25519");
  if (screenshot) await shot(screenshot);
  await dialog.getByRole("button", { name: "Trust", exact: true }).click();
  await hasText(
    dialog.getByRole("status"),
    new RegExp(`trusted ${name} ${fingerprint.replace(/[+/]/g, "\\$&")}`),
  );
  await dialog.getByRole("button", { name: "Close", exact: true }).last().click();
  await absent(dialog);
}

beforeAll(async () => {
  testbed = loadTestbed();
  scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-e2e-nodes-"));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await buildRenderer(RENDERER_DIR);
  undoGpu = await installReplayedNvidiaSmi(testbed, testbed.nodes[0]!.name);
  served = await startServe({
    dockerHost: testbed.dockerHost,
    workspace: path.join(scratch, "workspace"),
    dataDir: path.join(scratch, "data"),
    extraArgs: ["--known-hosts", path.join(scratch, "known_hosts")],
    env: {
      MADENGINE_NODES_POLL_MS: "1000",
      MADENGINE_NODES_PROBE_TIMEOUT_MS: "3000",
      MADENGINE_NODES_IDLE_CLOSE_MS: "1000",
    },
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  cspViolations = await watchCspViolations(page);
});

afterAll(async () => {
  await browser?.close();
  await stopServe(served);
  await undoGpu?.();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("the Nodes screen against madengine-cli serve and the testbed", () => {
  it("starts empty and names the nodes file", async () => {
    await page.goto(served.url);
    await page.locator("#tab-nodes").click();
    await visible(panel().getByText("No nodes yet"));
    await hasText(panel().locator("p.muted code"), path.join(scratch, "data", "nodes.json"));
  });

  it("shows the engine's message under the field at fault", async () => {
    await panel().getByRole("button", { name: "Add node" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a node" });
    for (const [label, value] of Object.entries(nodeFields(0, { Port: "70000" })))
      await fill(dialog, label, value);
    await dialog.getByRole("button", { name: "Add node" }).click();
    const port = dialog.getByLabel("Port", { exact: true });
    await hasAttribute(port, "aria-invalid", "true");
    await hasText(dialog.locator(".field-error"), /a port from 1 to 65535/);
    await shot("form-error");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await absent(dialog);
  });

  it("adds nodes through the form; unknown host keys are not trusted on their own", async () => {
    await addNode(nodeFields(0));
    await addNode(nodeFields(1));
    await addNode({ ...nodeFields(2), Name: "refused", Host: "127.0.101.250" });
    await hasText(card("node1").getByTestId("node-state"), "Unreachable");
    await hasText(card("node1").locator(".node-error"), /is not in .*known_hosts/);
    await visible(card("node1").locator(".node-labels").getByText("rack=a"));
    await hasText(card("refused").locator(".node-error"), /cannot connect to root@127\.0\.101\.250/);
    await visible(card("refused").locator(".node-hint"));
    await shot("untrusted");
  });

  it("trusts through the dialog: the fingerprint shown is the node's", async () => {
    await trustThroughDialog("node1", testbed.nodes[0]!.hostKeyFingerprint, "trust-dialog");
    await trustThroughDialog("node2", testbed.nodes[1]!.hostKeyFingerprint);
    const lines = readFileSync(path.join(scratch, "known_hosts"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
  });

  it("cards turn healthy with the Docker version; node1 shows the replayed GPU, node2 no GPU", async () => {
    for (const name of ["node1", "node2"]) {
      await hasAttribute(card(name), "data-state", "healthy", 30_000);
      await hasText(card(name).getByTestId("node-docker"), /^Docker \d+\.\d+/);
      await hasText(card(name).getByTestId("node-latency"), /^\d+ ms$/);
      await visible(card(name).getByRole("meter", { name: "Disk" }));
    }
    const gpu = card("node1").getByRole("listitem", { name: `GPU 0: ${REPLAYED_GPU.name}` });
    await visible(gpu);
    expect(await gpu.getByRole("meter", { name: "Utilisation" }).getAttribute("value")).toBe(
      String(REPLAYED_GPU.utilizationPercent),
    );
    expect(await gpu.getByRole("meter", { name: "Temperature" }).getAttribute("value")).toBe(
      String(REPLAYED_GPU.temperatureC),
    );
    await visible(gpu.getByRole("meter", { name: "Memory" }));
    await visible(card("node2").getByText("No GPU found on this node."));
    // the unreachable node still says why while the others update
    await hasText(card("refused").getByTestId("node-state"), "Unreachable");
    await shot("healthy");
  });

  it("runs preflight with per-check results and fixes", async () => {
    await panel().getByRole("button", { name: "Preflight all" }).click();
    const results = panel().getByRole("region", { name: "Preflight results" });
    await visible(results, 60_000);
    await hasText(results.getByRole("status"), /2 of 3 nodes ready/);
    await hasText(results.locator('tr[data-node="node2"][data-check="docker"] td').nth(2), "pass");
    const refusedSsh = results.locator('tr[data-node="refused"][data-check="ssh"] td');
    await hasText(refusedSsh.nth(2), "FAIL");
    expect((await refusedSsh.nth(4).textContent())?.trim()).not.toBe("");
    await hasText(results.locator('tr[data-node="node1"][data-check="gpus"] td').nth(3), /1 NVIDIA GPU/);
    await shot("preflight");
  });

  it("a changed host key gets the refusal view and no Trust button", async () => {
    const pinned = path.join(scratch, "pinned_known_hosts");
    const node1Key = readFileSync(testbed.knownHostsPath, "utf8")
      .split("\n")
      .find((line) => line.startsWith(`[${testbed.nodes[0]!.host}]`))!
      .split(" ")
      .slice(1)
      .join(" ");
    writeFileSync(pinned, `[${testbed.nodes[2]!.host}]:${testbed.nodes[2]!.port} ${node1Key}\n`);
    await addNode({ ...nodeFields(2), Name: "impostor", "known_hosts file": pinned });
    await card("impostor").getByRole("button", { name: "Host key…" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Host key of impostor" });
    await visible(dialog);
    await hasText(dialog.locator(".key-refusal-title"), /CHANGED/);
    await hasText(dialog.getByTestId("key-fingerprint"), testbed.nodes[2]!.hostKeyFingerprint);
    expect(await dialog.getByRole("button", { name: "Trust", exact: true }).count()).toBe(0);
    await shot("changed-key");
    await page.keyboard.press("Escape");
    await absent(dialog);
  });

  it("removes a node after confirmation", async () => {
    await card("impostor").getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove impostor?" });
    await dialog.getByRole("button", { name: "Remove impostor" }).click();
    await absent(card("impostor"));
  });

  it("leaving the screen stops polling and closes the SSH connections", async () => {
    const node2 = testbed.nodes[1]!;
    expect(openSshConnections(node2.host, node2.port)).toBe(1);
    await page.locator("#tab-models").click();
    await expect.poll(() => openSshConnections(node2.host, node2.port), { timeout: 15_000 }).toBe(0);
    await page.locator("#tab-nodes").click();
    await expect.poll(() => openSshConnections(node2.host, node2.port), { timeout: 15_000 }).toBe(1);
    expect(await cspViolations()).toEqual([]);
  });
});
