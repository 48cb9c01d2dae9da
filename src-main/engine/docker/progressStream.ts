/**
 * Docker's build and push endpoints answer with a stream of JSON objects, one per line. dockerode's
 * followProgress does not fail on an `error` event, so we read the stream ourselves and hand each
 * event to the caller as soon as it arrives.
 */
export interface ProgressEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number };
}

export function readProgressStream(
  stream: NodeJS.ReadableStream,
  onEvent: (event: ProgressEvent) => void,
): Promise<{ error?: string }> {
  return new Promise((resolve, reject) => {
    let pending = "";
    let firstError: string | undefined;
    const handleLine = (line: string) => {
      if (line.trim() === "") return;
      let event: ProgressEvent;
      try {
        event = JSON.parse(line) as ProgressEvent;
      } catch {
        event = { stream: `${line}\n` };
      }
      if ((event.error || event.errorDetail) && firstError === undefined) {
        firstError = event.errorDetail?.message ?? event.error ?? "unknown error";
      }
      onEvent(event);
    };
    stream.on("data", (chunk: Buffer | string) => {
      pending += chunk.toString();
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        handleLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    });
    stream.on("end", () => {
      handleLine(pending);
      resolve(firstError === undefined ? {} : { error: firstError });
    });
    stream.on("error", reject);
  });
}
