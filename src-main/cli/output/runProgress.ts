import type { RunEvent } from "../../../shared/events.js";
import { dim, green, red, yellow } from "./style.js";

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}

/** Prints run progress as timestamped lines, and with --live-output the container output prefixed by model. */
export class RunProgressView {
  private readonly stream: NodeJS.WriteStream;
  private readonly partial = new Map<string, string>();

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.stream = stream;
  }

  private say(text: string): void {
    this.stream.write(`${dim(`[${timestamp()}]`, this.stream)} ${text}\n`);
  }

  handle = (event: RunEvent): void => {
    switch (event.type) {
      case "run:planned":
        this.say(`${event.models.length} model run${event.models.length === 1 ? "" : "s"} planned`);
        break;
      case "run:image":
        this.say(`${event.model}: image ${event.reference} (${event.source})`);
        break;
      case "run:start":
        this.say(
          `${event.model}: running${event.timeoutSec ? ` (timeout ${event.timeoutSec} s)` : ""}, log ${event.logFile}`,
        );
        break;
      case "run:done": {
        const status =
          event.status === "SUCCESS"
            ? green(event.status, this.stream)
            : event.status === "FAILURE"
              ? red(event.status, this.stream)
              : yellow(event.status, this.stream);
        const perf = event.performance ? ` ${event.performance} ${event.metric}` : "";
        this.say(
          `${event.model}: ${status}${perf} in ${event.durationSec.toFixed(1)} s${event.reason ? ` (${event.reason})` : ""}`,
        );
        break;
      }
      case "run:kept":
        this.say(
          `${event.model}: container kept alive (${event.containerId.slice(0, 12)}):\n  ${event.commands.join("\n  ")}`,
        );
        break;
      case "log":
        this.say(`${event.level === "warn" ? `${yellow("warning", this.stream)}: ` : ""}${event.message}`);
        break;
    }
  };

  /** Container output for --live-output, each line prefixed with the model name. */
  output = (model: string, chunk: Buffer): void => {
    const lines = ((this.partial.get(model) ?? "") + chunk.toString("utf8")).split("\n");
    this.partial.set(model, lines.pop() ?? "");
    if (lines.length === 0) return;
    const prefix = dim(`[${model}]`, this.stream);
    this.stream.write(`${lines.map((line) => `${prefix} ${line}`).join("\n")}\n`);
  };

  finish(): void {
    for (const [model, rest] of this.partial) if (rest) this.stream.write(`[${model}] ${rest}\n`);
    this.partial.clear();
  }
}
