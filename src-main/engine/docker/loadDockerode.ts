import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type DockerodeClass from "dockerode";

const require = createRequire(import.meta.url);
let loaded: typeof DockerodeClass | undefined;

function stubModule(file: string, reason: string): void {
  const exports = () => {
    throw new Error(reason);
  };
  require.cache[file] = { id: file, filename: file, loaded: true, exports } as unknown as NodeJS.Module;
}

/**
 * Loads dockerode without the two transports it requires eagerly and we never use: gRPC for BuildKit
 * sessions (we build with the classic API) and ssh2 for docker-modem's `ssh://` protocol (remote
 * daemons go through our own persistent SSH connection). Together they cost ~60 ms of every start.
 */
export function loadDockerode(): typeof DockerodeClass {
  if (loaded) return loaded;
  // in the CLI bundle: dockerode bundled into one file, without those transports (rolldown.config.mjs)
  const vendored = path.join(path.dirname(fileURLToPath(import.meta.url)), "dockerode.vendor.cjs");
  if (existsSync(vendored)) {
    loaded = require(vendored) as typeof DockerodeClass;
    return loaded;
  }
  const dockerodeFile = require.resolve("dockerode");
  const fromDockerode = createRequire(dockerodeFile);
  stubModule(fromDockerode.resolve("./session.js"), "BuildKit sessions are not used by madengine-cli");
  stubModule(
    createRequire(fromDockerode.resolve("docker-modem")).resolve("./ssh.js"),
    "docker-modem's ssh transport is not used by madengine-cli",
  );
  loaded = fromDockerode(dockerodeFile) as typeof DockerodeClass;
  return loaded;
}
