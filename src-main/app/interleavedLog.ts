import { createReadStream, createWriteStream, existsSync, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { LineSplitter } from "./lineSplitter.js";

/** The log source of a run on GPU nodes that shows every node's output in one place. */
export const ALL_NODES_LOG_SOURCE = "all nodes";

/** `ESC[36mnode1 model ESC[0m │ ` at the start of each line: node and (for output) model. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the prefix is an ANSI colour sequence
const PREFIX = /^\u001b\[\d+m(\S+)(?: (\S+))?\u001b\[0m │ /;

/** Foreground SGR codes the log viewer shows as distinct colours (red is left for errors). */
const NODE_COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/**
 * Every node's output in one file, whole lines only, each prefixed with its node (coloured, so the
 * log viewer's ANSI support tells the nodes apart at a glance) and model. Lines of different
 * nodes interleave in the order they arrive; a line is never cut by another node's output.
 */
export class InterleavedLog {
  private readonly stream: WriteStream;
  private readonly splitters = new Map<string, LineSplitter>();
  private readonly colours = new Map<string, number>();
  /** Lines of each model's output already in the file (a resumed container replays its output). */
  private readonly alreadyWritten = new Map<string, number>();
  private closed = false;

  constructor(
    readonly file: string,
    nodes: readonly string[],
  ) {
    for (const [index, node] of nodes.entries())
      this.colours.set(node, NODE_COLOURS[index % NODE_COLOURS.length]!);
    this.stream = createWriteStream(file, { flags: "a" });
    this.stream.on("error", () => {
      // the per-node logs are the record; this view failing must not fail the run
    });
  }

  /**
   * Counts the lines each model already has in the file, so that the replay of a container's
   * output after a restart adds only what is new. Call before the first output.
   */
  async countExisting(): Promise<void> {
    if (!existsSync(this.file)) return;
    const lines = createInterface({
      input: createReadStream(this.file),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      const match = PREFIX.exec(line);
      if (!match?.[2]) continue;
      const key = `${match[1]}\u0000${match[2]}`;
      this.alreadyWritten.set(key, (this.alreadyWritten.get(key) ?? 0) + 1);
    }
  }

  /** A chunk of one model's output on one node. */
  output(node: string, model: string, chunk: Buffer): void {
    if (this.closed) return;
    const key = `${node}\u0000${model}`;
    let splitter = this.splitters.get(key);
    if (!splitter) {
      splitter = new LineSplitter();
      this.splitters.set(key, splitter);
    }
    splitter.push(chunk, (line) => this.modelLine(key, node, model, line));
  }

  private modelLine(key: string, node: string, model: string, line: string): void {
    const skip = this.alreadyWritten.get(key) ?? 0;
    if (skip > 0) {
      this.alreadyWritten.set(key, skip - 1);
      return;
    }
    this.write(node, model, line);
  }

  /** A line about a node (connected, failed, lost...), from the service rather than a container. */
  note(node: string, text: string): void {
    if (this.closed) return;
    this.write(node, "", text);
  }

  /** One model on one node has ended: its unterminated last line is written. */
  endOf(node: string, model: string): void {
    const key = `${node}\u0000${model}`;
    this.splitters.get(key)?.flush((line) => this.modelLine(key, node, model, line));
    this.splitters.delete(key);
    this.alreadyWritten.delete(key);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const [key, splitter] of this.splitters) {
      const [node = "", model = ""] = key.split("\u0000");
      splitter.flush((line) => this.modelLine(key, node, model, line));
    }
    this.splitters.clear();
    this.closed = true;
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  private write(node: string, model: string, line: string): void {
    const colour = this.colours.get(node) ?? NODE_COLOURS[0]!;
    const where = model ? `${node} ${model}` : node;
    this.stream.write(`\u001b[${colour}m${where}\u001b[0m │ ${line}\n`);
  }
}
