/**
 * Phase timings for profiling (MADENGINE_TRACE=1): one line per finished step on stderr, with the
 * milliseconds since the process started and how long the step took. Off by default; costs nothing
 * then. Labels never carry secrets (callers pass names, paths and API routes only).
 */
const enabled = process.env.MADENGINE_TRACE === "1";

export function traceEnabled(): boolean {
  return enabled;
}

export function trace(label: string, startedMs?: number): void {
  if (!enabled) return;
  const now = performance.now();
  const took = startedMs === undefined ? "" : ` (${(now - startedMs).toFixed(1)} ms)`;
  process.stderr.write(`[trace ${now.toFixed(1)}] ${label}${took}\n`);
}

/** Times one awaited step. */
export async function traced<T>(label: string, step: () => Promise<T>): Promise<T> {
  if (!enabled) return step();
  const started = performance.now();
  try {
    return await step();
  } finally {
    trace(label, started);
  }
}
