import type { DispatchEvent } from "../../../shared/events.js";
import { RunProgressView } from "./runProgress.js";
import { cyan, green, red, yellow } from "./style.js";

/** Progress of a multi-node run: node lifecycle lines, then each node's run lines prefixed by its name. */
export class DispatchProgressView {
  private readonly runs: RunProgressView;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.runs = new RunProgressView(stream);
  }

  private say(text: string): void {
    this.stream.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
  }

  handle = (event: DispatchEvent): void => {
    const node = cyan(event.node, this.stream);
    switch (event.type) {
      case "node:connecting":
        this.say(`${node}: connecting to ${event.address}`);
        return;
      case "node:trusted":
        this.say(
          `${node}: ${yellow("trusted new host key", this.stream)} ${event.fingerprint} (added to ${event.file})`,
        );
        return;
      case "node:ready":
        this.say(
          `${node}: ${green("ready", this.stream)} (${event.docker}; files: ${event.uploaded} uploaded, ${event.unchanged} unchanged)`,
        );
        return;
      case "node:failed":
        this.say(
          `${node}: ${red("FAILED", this.stream)} ${event.error}${event.hint ? `\n    hint: ${event.hint}` : ""}`,
        );
        return;
      case "node:lost":
        this.say(`${node}: ${red("LOST", this.stream)} ${event.reason}`);
        return;
      default:
        if ("model" in event) this.runs.handle({ ...event, model: `${event.node}/${event.model}` } as never);
        else this.runs.handle(event);
    }
  };

  output = (node: string, model: string, chunk: Buffer): void => this.runs.output(`${node}/${model}`, chunk);

  finish(): void {
    this.runs.finish();
  }
}
