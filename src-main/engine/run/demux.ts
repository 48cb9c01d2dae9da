/**
 * Splits Docker's multiplexed attach stream (no TTY): frames of an 8-byte header (byte 0 the stream,
 * bytes 4-7 the big-endian payload length) followed by the payload. Payloads are handed on as they
 * arrive, partial frames included, so a 10 MB line never has to be held whole.
 */
export class DockerStreamDemuxer {
  private header = Buffer.alloc(0);
  private remaining = 0;

  constructor(private readonly onPayload: (chunk: Buffer, stream: "stdout" | "stderr") => void) {}

  private current: "stdout" | "stderr" = "stdout";

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const needed = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + needed)]);
        offset += Math.min(needed, chunk.length - offset);
        if (this.header.length < 8) return;
        this.current = this.header[0] === 2 ? "stderr" : "stdout";
        this.remaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.onPayload(chunk.subarray(offset, offset + take), this.current);
      this.remaining -= take;
      offset += take;
    }
  }
}
