// Test and benchmark page for the LogViewer (not part of the app build): mounts one viewer on a
// LineStore and exposes `window.harness` so Playwright can feed lines and read figures.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { LogViewer } from "../src/components/LogViewer.js";
import { LineStore } from "../src/logs/lineStore.js";
import "../src/styles/app.css";
import "./harness.css";

const store = new LineStore();

function generated(from: number, count: number): string[] {
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = from + i;
    lines[i] =
      n % 10 === 0
        ? `\x1b[32mstep ${n}\x1b[0m: building layer ${n} of the image, \x1b[1mok\x1b[0m`
        : `line ${n}: the quick brown fox jumps over the lazy dog (${(n * 7919) % 100000})`;
  }
  return lines;
}

export interface Harness {
  append(lines: string[]): void;
  length(): number;
  /** Appends `total` generated lines in batches of `batch`, one batch per macrotask (as events arrive). */
  feed(total: number, batch: number): Promise<{ ms: number }>;
  /** rAF deltas (ms) recorded between start and stop. */
  startFrames(): void;
  stopFrames(): number[];
}

const frames: number[] = [];
let recording = false;
let last = 0;
function tick(now: number) {
  if (!recording) return;
  if (last !== 0) frames.push(now - last);
  last = now;
  requestAnimationFrame(tick);
}

const harness: Harness = {
  append: (lines) => store.append(lines),
  length: () => store.length,
  feed(total, batch) {
    const started = performance.now();
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      let sent = 0;
      channel.port1.onmessage = () => {
        const count = Math.min(batch, total - sent);
        store.append(generated(store.length, count));
        sent += count;
        if (sent < total) channel.port2.postMessage(0);
        else resolve({ ms: performance.now() - started });
      };
      channel.port2.postMessage(0);
    });
  },
  startFrames() {
    frames.length = 0;
    last = 0;
    recording = true;
    requestAnimationFrame(tick);
  },
  stopFrames() {
    recording = false;
    return frames.slice();
  },
};
(window as unknown as { harness: Harness }).harness = harness;

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <main className="harness">
        <LogViewer store={store} label="Harness log" fileName="harness.log" status="harness" />
      </main>
    </StrictMode>,
  );
}
