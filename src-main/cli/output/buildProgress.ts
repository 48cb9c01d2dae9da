import type { BuildEvent } from "../../../shared/events.js";
import { bold, cyan, dim, green, red, yellow } from "./style.js";

type RowState =
  | "queued"
  | "building"
  | "built"
  | "up to date"
  | "failed"
  | "pushing"
  | "pushed"
  | "push failed";

interface Row {
  image: string;
  model: string;
  state: RowState;
  step: string;
  startedAt?: number;
  endedAt?: number;
  digest?: string;
}

function elapsed(row: Row, now: number): string {
  if (row.startedAt === undefined) return "";
  return `${(((row.endedAt ?? now) - row.startedAt) / 1000).toFixed(1)}s`;
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}

function colourState(state: RowState, stream: NodeJS.WriteStream): string {
  const padded = state.padEnd(11);
  if (state === "failed" || state === "push failed") return red(padded, stream);
  if (state === "built" || state === "pushed" || state === "up to date") return green(padded, stream);
  if (state === "building" || state === "pushing") return cyan(padded, stream);
  return dim(padded, stream);
}

/**
 * Shows build progress: on a TTY a live table (state, step, elapsed) redrawn in place; elsewhere
 * plain timestamped lines. With live output, build output is streamed with an image prefix.
 */
export class BuildProgressView {
  private readonly rows = new Map<string, Row>();
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly interactive: boolean;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly partial = new Map<string, string>();

  constructor(options: { liveOutput: boolean; stream?: NodeJS.WriteStream }) {
    this.stream = options.stream ?? process.stdout;
    this.live = options.liveOutput;
    this.interactive = this.stream.isTTY === true && !this.live && process.env.CI === undefined;
  }

  private line(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
    this.draw();
  }

  private plain(text: string): void {
    if (this.interactive) return;
    this.stream.write(`[${timestamp()}] ${text}\n`);
  }

  handle = (event: BuildEvent): void => {
    const now = Date.now();
    switch (event.type) {
      case "build:planned":
        for (const image of event.images)
          this.rows.set(image.image, { image: image.image, model: image.model, state: "queued", step: "" });
        this.plain(`${event.images.length} image${event.images.length === 1 ? "" : "s"} to build`);
        if (this.interactive) this.timer = setInterval(() => this.redraw(), 200);
        break;
      case "build:start": {
        const row = this.rows.get(event.image);
        if (row) Object.assign(row, { state: "building", startedAt: now });
        this.plain(`${event.image}: building ${event.dockerfile} (log ${event.logFile})`);
        break;
      }
      case "build:step": {
        const row = this.rows.get(event.image);
        if (row) row.step = `${event.step}/${event.totalSteps} ${event.instruction}`;
        break;
      }
      case "build:output":
        if (this.live) this.streamOutput(event.image, event.text);
        break;
      case "build:skipped": {
        const row = this.rows.get(event.image);
        if (row) Object.assign(row, { state: "up to date", endedAt: now, step: event.reason });
        this.plain(`${event.image}: up to date (${event.reason})`);
        break;
      }
      case "build:done": {
        const row = this.rows.get(event.image);
        if (row) Object.assign(row, { state: "built", endedAt: now, step: "" });
        this.plain(`${event.image}: built in ${event.durationSec.toFixed(1)} s`);
        break;
      }
      case "build:failed": {
        const row = event.image ? this.rows.get(event.image) : undefined;
        if (row) Object.assign(row, { state: "failed", endedAt: now, step: event.error.split("\n")[0] });
        if (this.interactive)
          this.line(`${red("failed", this.stream)} ${event.image ?? event.model}: ${event.error}`);
        else this.plain(`${event.image ?? event.model}: FAILED: ${event.error}`);
        break;
      }
      case "push:start": {
        const row = this.rows.get(event.image);
        if (row) row.state = "pushing";
        this.plain(`${event.image}: pushing to ${event.registryImage}`);
        break;
      }
      case "push:done": {
        const row = this.rows.get(event.image);
        if (row) Object.assign(row, { state: "pushed", digest: event.digest, endedAt: now });
        this.plain(`${event.image}: pushed ${event.registryImage}@${event.digest}`);
        break;
      }
      case "push:failed": {
        const row = this.rows.get(event.image);
        if (row) Object.assign(row, { state: "push failed", step: event.error, endedAt: now });
        if (this.interactive) this.line(`${red("push failed", this.stream)} ${event.image}: ${event.error}`);
        else this.plain(`${event.image}: PUSH FAILED: ${event.error}`);
        break;
      }
      case "log":
        if (this.interactive)
          this.line(`${event.level === "warn" ? yellow("warning", this.stream) : "note"}: ${event.message}`);
        else this.plain(`${event.level === "warn" ? "warning: " : ""}${event.message}`);
        break;
    }
  };

  private streamOutput(image: string, text: string): void {
    const lines = ((this.partial.get(image) ?? "") + text).split("\n");
    this.partial.set(image, lines.pop() ?? "");
    for (const line of lines) this.stream.write(`${dim(`[${image}]`, this.stream)} ${line}\n`);
  }

  private render(): string[] {
    const now = Date.now();
    const width = Math.max(5, ...[...this.rows.values()].map((row) => row.image.length));
    // a terminal that reports no size (0 columns under some emulators) is treated as 120 wide
    const columns = this.stream.columns || 120;
    return [...this.rows.values()].map((row) => {
      const rest = ` ${row.image.padEnd(width)} ${elapsed(row, now).padStart(6)}  ${row.step}`;
      const room = Math.max(10, columns - 12);
      const shown = rest.length > room ? `${rest.slice(0, room - 1)}…` : rest;
      return `${colourState(row.state, this.stream)}${shown}`;
    });
  }

  private clear(): void {
    if (!this.interactive || this.drawnLines === 0) return;
    this.stream.write(`\u001b[${this.drawnLines}A\u001b[0J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (!this.interactive || this.timer === undefined) return;
    const lines = this.render();
    if (lines.length > 0) this.stream.write(`${lines.join("\n")}\n`);
    this.drawnLines = lines.length;
  }

  private redraw(): void {
    this.clear();
    this.draw();
  }

  /** Stops the live display and leaves the final state on screen. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.interactive) {
      this.clear();
      const lines = this.render();
      if (lines.length > 0) this.stream.write(`${bold("Build results", this.stream)}\n${lines.join("\n")}\n`);
    }
    for (const [image, rest] of this.partial) if (rest) this.stream.write(`[${image}] ${rest}\n`);
    this.timer = undefined;
  }
}
