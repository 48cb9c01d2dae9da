import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { pack } from "tar-stream";
import { MadError } from "../../../shared/errors.js";
import { readProgressStream } from "../docker/progressStream.js";

/** The base image of the bundled example zoo: made on this machine, never pulled. */
export const ZOO_BASE_IMAGE = "madengine-zoo-base:latest";

function normaliseReference(reference: string): string {
  const lastSegment = reference.split("/").pop() ?? reference;
  return lastSegment.includes(":") ? reference : `${reference}:latest`;
}

export function isLocallyMadeBase(reference: string): boolean {
  return normaliseReference(reference) === ZOO_BASE_IMAGE;
}

/** A statically linked busybox on PATH (Debian's busybox-static), or an explanation of what is missing. */
export function findStaticBusybox(): string {
  const dirs = (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter);
  for (const dir of [...dirs, "/bin", "/usr/bin"]) {
    const candidate = path.join(dir, "busybox");
    if (!existsSync(candidate)) continue;
    const binary = readFileSync(candidate);
    if (binary.includes("/lib64/ld-linux") || binary.includes("/lib/ld-linux")) {
      throw new MadError(
        "BUILD_FAILED",
        `${candidate} is dynamically linked and cannot run in a FROM scratch image`,
        {
          hint: "install the static build: apt-get install busybox-static",
        },
      );
    }
    return candidate;
  }
  throw new MadError("BUILD_FAILED", `cannot make ${ZOO_BASE_IMAGE}: no busybox on PATH`, {
    hint: "install it: apt-get install busybox-static",
  });
}

const inFlight = new WeakMap<Docker, Map<string, Promise<void>>>();

/**
 * Makes the zoo's base image if the daemon does not have it: FROM scratch with the host's static
 * busybox and its applets, so nothing is pulled from a registry. Concurrent builds share one attempt.
 */
export function ensureLocalBaseImage(
  docker: Docker,
  reference: string,
  log: (line: string) => void,
): Promise<void> {
  const name = normaliseReference(reference);
  let perDaemon = inFlight.get(docker);
  if (!perDaemon) {
    perDaemon = new Map();
    inFlight.set(docker, perDaemon);
  }
  let pending = perDaemon.get(name);
  if (!pending) {
    pending = makeBaseImage(docker, name, log).finally(() => perDaemon.delete(name));
    perDaemon.set(name, pending);
  }
  return pending;
}

async function makeBaseImage(docker: Docker, name: string, log: (line: string) => void): Promise<void> {
  try {
    await docker.getImage(name).inspect();
    return;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  const busybox = findStaticBusybox();
  log(`making base image ${name} from ${busybox} (FROM scratch)`);
  const dockerfile = [
    "FROM scratch",
    "COPY busybox /bin/busybox",
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    'RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp /root /usr/bin /etc && chmod 1777 /tmp && echo root:x:0:0:root:/root:/bin/sh > /etc/passwd && echo root:x:0: > /etc/group"]',
    'CMD ["/bin/sh"]',
    "",
  ].join("\n");
  const tar = pack();
  tar.entry({ name: "Dockerfile", mode: 0o644 }, dockerfile);
  tar.entry({ name: "busybox", mode: 0o755 }, readFileSync(busybox));
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, {
    t: name,
    networkmode: "none",
    rm: true,
    forcerm: true,
    labels: { "org.madengine.role": "zoo-base" },
  });
  const result = await readProgressStream(stream, () => {});
  if (result.error) {
    throw new MadError("BUILD_FAILED", `cannot make base image ${name}: ${result.error}`, {
      hint: "check that the Docker daemon can run containers (docker run --rm on any local image)",
    });
  }
}
