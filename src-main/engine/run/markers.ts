import { MARKER } from "./inContainerScript.js";

const MARKER_BYTES = Buffer.from(MARKER);
const MAX_CARRY = 512;

/** Finds the script's marker lines in the output stream (cheaply: a byte search per chunk). */
export class MarkerWatcher {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly onMarker: (line: string) => void) {}

  push(chunk: Buffer): void {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let searchFrom = 0;
    let consumedTo = 0;
    for (;;) {
      const at = data.indexOf(MARKER_BYTES, searchFrom);
      if (at < 0) break;
      const lineStart = data.lastIndexOf(10, at) + 1;
      const lineEnd = data.indexOf(10, at);
      if (lineEnd < 0) {
        consumedTo = lineStart;
        this.carry = data.subarray(lineStart).subarray(0, MAX_CARRY);
        return;
      }
      this.onMarker(data.subarray(lineStart, lineEnd).toString("utf8").replace(/\r$/, ""));
      searchFrom = lineEnd + 1;
      consumedTo = searchFrom;
    }
    // keep the end of the chunk in case a marker is split across chunks
    const tailStart = Math.max(consumedTo, data.length - MARKER_BYTES.length);
    this.carry = Buffer.from(data.subarray(tailStart));
  }
}
