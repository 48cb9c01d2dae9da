/**
 * A throwaway web bridge for renderer tests: the same protocol as `madengine-cli serve`
 * (token -> HttpOnly cookie, POST /api/call/<name>, WebSocket /api/events) with canned data and
 * jobs the test drives by hand (push log lines with or without events, update items, finish).
 * It lets the tests create situations the real engine makes hard to time: dropped events
 * (gaps), a socket that drops, malformed payloads, Docker down.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WebSocket, WebSocketServer } from "ws";
import {
  type CallArgs,
  type CallName,
  type CallResult,
  type ContractError,
  contractCalls,
  type EventName,
  type EventPayload,
  type JobItem,
  type JobSummary,
} from "../../../shared/contract.js";
import { MadError } from "../../../shared/errors.js";
import { contextSchema } from "../../../shared/schemas/context.js";
import type { BuildManifest } from "../../../shared/schemas/manifest.js";
import { type ModelEntry, modelsFileSchema } from "../../../shared/schemas/model.js";
import type { PerfRow } from "../../../shared/schemas/perf.js";
import { parseJsonText, validateWithSchema } from "../../../shared/schemas/validate.js";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

export const FAKE_DEFAULT_ROOT = "/fake/zoo";

/** The bundled example zoo as zoo.discover returns it (dynamic models included). */
export function cannedZoo(): CallResult<"zoo.discover"> {
  const entry = (
    name: string,
    tags: string[],
    script: string,
    source: CallResult<"zoo.discover">["models"][number]["source"],
    extra: Partial<ModelEntry> = {},
  ) => ({
    model: { name, tags, dockerfile: "docker/dummy", scripts: script, n_gpus: "1", args: "", ...extra },
    source,
  });
  const root = { kind: "root" as const, file: `${FAKE_DEFAULT_ROOT}/models.json` };
  const family = {
    kind: "subdir" as const,
    dir: "family",
    file: `${FAKE_DEFAULT_ROOT}/scripts/family/models.json`,
  };
  const dynamic = {
    kind: "dynamic" as const,
    dir: "dynamic",
    file: `${FAKE_DEFAULT_ROOT}/scripts/dynamic/get_models_json.py`,
  };
  return {
    root: FAKE_DEFAULT_ROOT,
    models: [
      entry("dummy", ["dummies", "smoke"], "scripts/dummy/run.sh", root),
      entry("dummy_multi", ["dummies", "multi"], "scripts/dummy/run_multi.sh", root, {
        multiple_results: "perf_dummy_multi.csv",
      }),
      entry("dummy_fail", ["failing"], "scripts/dummy/run_fail.sh", root),
      entry("dummy_sleep", ["sleepy"], "scripts/dummy/run_sleep.sh", root, { args: "300", timeout: 3 }),
      entry("dummy_args", ["dummies", "args"], "scripts/dummy/run_args.sh", root),
      entry("variant", ["variants"], "scripts/variant/run.sh", root, { dockerfile: "docker/variant" }),
      entry("family/model_a", ["family", "dummies"], "scripts/family/run_a.sh", family),
      entry("family/model_b", ["family", "dummies"], "scripts/family/run_b.sh", family),
      entry("dynamic/gen_small", ["dynamic", "dummies", "generated"], "scripts/dynamic/run_gen.sh", dynamic, {
        args: "--size small",
      }),
      entry("dynamic/gen_large", ["dynamic", "dummies", "generated"], "scripts/dynamic/run_gen.sh", dynamic, {
        args: "--size large",
      }),
    ],
  };
}

/**
 * Canned Export previews: a Job with a GPU (a `<script>` tag in a comment, which must stay text),
 * a playbook, a script, a config. A namespace that is not a DNS label is refused as the engine does.
 */
export function cannedExport(args: CallArgs<"export.preview">): CallResult<"export.preview"> {
  switch (args.target) {
    case "k8s": {
      const namespace = args.options.namespace ?? "madengine";
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
        throw new MadError(
          "INVALID_ARGS",
          `--namespace ${JSON.stringify(namespace)}: not a valid namespace name (lower-case letters, digits and '-')`,
          { hint: "e.g. --namespace benchmarks" },
        );
      }
      return {
        files: [
          {
            name: "k8s-madengine-configmap.yaml",
            language: "yaml",
            content: `# Namespace and ConfigMap\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
          },
          {
            name: "k8s-madengine-job.yaml",
            language: "yaml",
            content: [
              "# 1 Job(s) <script>window.__pwned = true</script>",
              "apiVersion: batch/v1",
              "kind: Job",
              "metadata:",
              `  namespace: ${namespace}`,
              "spec:",
              "  backoffLimit: 0",
              "  template:",
              "    spec:",
              "      containers:",
              '        - image: "127.0.0.1:5055/ci-dummy@sha256:1"',
              "          resources:",
              "            limits:",
              `              amd.com/gpu: ${args.options.gpusPerNode ?? 1}`,
              "",
            ].join("\n"),
          },
        ],
        notes: ["the context does not say how many GPUs a node has"],
      };
    }
    case "ansible":
      return {
        files: [
          {
            name: "madengine_distributed.yml",
            language: "yaml",
            content: "- name: Run madengine models\n  hosts: gpu_nodes\n  gather_facts: false\n",
          },
        ],
        notes: ["madengine_files.tar.gz (12 KiB, binary: the MAD files) is written on save"],
      };
    case "slurm":
      return {
        files: [
          {
            name: args.options.output ?? "madengine_slurm.sh",
            language: "shell",
            content: '#!/bin/bash\n#SBATCH --job-name=madengine\nWORK=$MADENGINE_WORKSPACE\necho "done"\n',
          },
        ],
        notes: [],
      };
    case "execution-config":
      return {
        files: [
          {
            name: "execution_config.json",
            language: "json",
            content: `${JSON.stringify({ models: args.options.tags.map((name) => ({ name })), context: { gpu_vendor: "AMD" } }, null, 2)}\n`,
          },
        ],
        notes: ["gpu_vendor AMD from the context"],
      };
  }
}

function errorInfo(error: unknown): ContractError {
  if (error instanceof MadError) {
    const info = error.toInfo();
    return {
      code: info.code,
      message: info.message,
      ...(info.hint ? { hint: info.hint } : {}),
      ...(info.file ? { file: info.file } : {}),
      ...(info.path ? { path: info.path } : {}),
    };
  }
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

export interface FakeJob {
  summary: JobSummary;
  items: JobItem[];
  logs: Map<string, string[]>;
}

type Handler = (args: unknown) => unknown | Promise<unknown>;

export interface FakeBridge {
  url: string;
  token: string;
  port: number;
  /** Calls received, in order (name and args). */
  calls: { name: string; args: unknown }[];
  jobs: Map<string, FakeJob>;
  docker: { ok: boolean; endpoint: string; error?: string; hint?: string };
  /** Replace or add a call handler (return the result; throw a MadError for an error envelope). */
  handle(name: CallName, handler: Handler): void;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Sends anything as an event (for malformed-payload tests). */
  emitRaw(message: unknown): void;
  /** Appends lines to a job log; `emit: false` keeps them out of events (dropped under back-pressure). */
  pushLines(jobId: string, source: string, lines: string[], options?: { emit?: boolean }): void;
  updateJob(jobId: string, patch: Partial<JobSummary>, items?: JobItem[]): void;
  /** Closes every event socket (the client should reconnect); `refuseMs` refuses new ones for a while. */
  dropSockets(refuseMs?: number): void;
  socketCount(): number;
  close(): Promise<void>;
}

export async function startFakeBridge(options: {
  staticDir: string;
  /** MAD roots the fake can read for real (models.json validated like the engine). */
  readableRoots?: string[];
}): Promise<FakeBridge> {
  const token = randomBytes(16).toString("hex");
  const sockets = new Set<WebSocket>();
  let refuseUntil = 0;
  const calls: FakeBridge["calls"] = [];
  const jobs = new Map<string, FakeJob>();
  const docker: FakeBridge["docker"] = { ok: true, endpoint: "unix:///fake/docker.sock" };
  let nextJob = 1;

  function send(message: unknown): void {
    const text = JSON.stringify(message);
    for (const socket of sockets) if (socket.readyState === WebSocket.OPEN) socket.send(text);
  }
  const emit: FakeBridge["emit"] = (event, payload) => send({ event, payload });

  function newJob(kind: "build" | "run", title: string, extra: Partial<JobSummary> = {}): FakeJob {
    const id = `${kind}-${nextJob++}`;
    const job: FakeJob = {
      summary: {
        id,
        kind,
        state: "running",
        title,
        startedAt: new Date().toISOString(),
        outputDir: `/fake/jobs/${id}`,
        logs: [],
        ...extra,
      },
      items: [],
      logs: new Map(),
    };
    jobs.set(id, job);
    return job;
  }

  async function discover(madRoot: string | undefined): Promise<CallResult<"zoo.discover">> {
    if (madRoot === undefined || madRoot === FAKE_DEFAULT_ROOT) return cannedZoo();
    const root = path.resolve(madRoot);
    if (!(options.readableRoots ?? []).some((allowed) => path.resolve(allowed) === root)) {
      throw new MadError("FILE_NOT_FOUND", `${root}/models.json: no such file: ${root} is not a MAD root`, {
        file: `${root}/models.json`,
        hint: "pick the folder that holds models.json, scripts/ and docker/ (a MAD checkout)",
      });
    }
    const file = path.join(root, "models.json");
    const text = await readFile(file, "utf8");
    const models = validateWithSchema(modelsFileSchema, parseJsonText(text, file), { file });
    return { root, models: models.map((model) => ({ model, source: { kind: "root" as const, file } })) };
  }

  const handlers = new Map<string, Handler>();
  const on = <N extends CallName>(name: N, handler: (args: never) => unknown) =>
    handlers.set(name, handler as Handler);
  on("engine.status", () => ({
    version: "0.1.0-fake",
    defaultMadRoot: FAKE_DEFAULT_ROOT,
    docker: { ...docker },
  }));
  on("zoo.discover", (args: { madRoot?: string }) => discover(args.madRoot));
  on("zoo.select", async (args: { madRoot?: string; tags: string[] }) => {
    const zoo = await discover(args.madRoot);
    return { models: zoo.models.filter((m) => args.tags.includes(m.model.name)).map((m) => m.model) };
  });
  on("context.validate", (args: { json: string }) => {
    try {
      const data = parseJsonText(args.json, "context", "CONTEXT_INVALID");
      const context = validateWithSchema(contextSchema, data, { file: "context", code: "CONTEXT_INVALID" });
      return { ok: true, context };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  });
  on("build.start", (args: { tags: string[]; context: string }) => {
    const job = newJob("build", `build ${args.tags.join(" ")}`, {
      manifestFile: "/fake/jobs/build_manifest.json",
    });
    job.items = args.tags.map((tag) => ({
      key: `ci-${tag}`,
      label: `ci-${tag}_dummy.ubuntu.none`,
      state: "queued",
    }));
    return { job: job.summary };
  });
  on("run.start", (args: { manifestFile?: string; tags?: string[] }) => {
    const job = newJob("run", `run ${args.manifestFile ?? args.tags?.join(" ") ?? ""}`);
    return { job: job.summary };
  });
  on("jobs.list", () => ({ jobs: [...jobs.values()].map((job) => job.summary) }));
  on("jobs.get", (args: { id: string }) => {
    const job = jobs.get(args.id);
    if (!job) throw new MadError("INVALID_ARGS", `no job ${args.id}`);
    return { job: job.summary, items: job.items };
  });
  on("jobs.cancel", (args: { id: string }) => {
    const job = jobs.get(args.id);
    if (!job) return { cancelled: false };
    if (job.summary.state !== "running") return { cancelled: false };
    job.summary = { ...job.summary, state: "cancelled", endedAt: new Date().toISOString() };
    emit("job.updated", { job: job.summary, items: job.items });
    return { cancelled: true };
  });
  on("logs.read", (args: { jobId: string; source: string; fromLine: number; maxLines?: number }) => {
    const job = jobs.get(args.jobId);
    const lines = job?.logs.get(args.source) ?? [];
    const slice = lines.slice(args.fromLine, args.fromLine + (args.maxLines ?? 10_000));
    return {
      lines: slice,
      nextLine: args.fromLine + slice.length,
      complete:
        job !== undefined && job.summary.state !== "running" && args.fromLine + slice.length >= lines.length,
    };
  });
  on("manifest.read", (): { manifest: BuildManifest } => ({
    manifest: {
      built_images: {
        "ci-dummy_dummy.ubuntu.none": {
          docker_image: "ci-dummy_dummy.ubuntu.none",
          dockerfile: "docker/dummy.ubuntu.none.Dockerfile",
          base_docker: "madengine-zoo-base:latest",
          docker_sha: "sha256:1",
          build_duration: 1.5,
          build_command: "docker build ...",
          log_file: "dummy_dummy.ubuntu.none.build.live.log",
        },
      },
      built_models: {},
      context: { gpu_vendor: "NONE", guest_os: "UBUNTU" },
    },
  }));
  on("results.forJob", (): { rows: PerfRow[] } => ({ rows: [] }));
  on("export.preview", (args: CallArgs<"export.preview">) => cannedExport(args));
  on("export.save", (args: CallArgs<"export.save">) => ({
    written: cannedExport(args).files.map((file) => `${args.outputDir}/${file.name}`),
    notes: [],
  }));

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const cookieToken = /(?:^|;\s*)madengine_token=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const authorised = cookieToken === token || bearer === token;
    try {
      if (request.method === "POST" && url.pathname.startsWith("/api/call/")) {
        const name = decodeURIComponent(url.pathname.slice("/api/call/".length));
        if (!authorised) {
          response.writeHead(401, { "content-type": "text/plain" }).end("unauthorised");
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as unknown;
        calls.push({ name, args: body });
        const spec = contractCalls[name as CallName];
        const reply = (status: number, value: unknown) =>
          response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
        if (!spec)
          return reply(404, { ok: false, error: { code: "INVALID_ARGS", message: `no call ${name}` } });
        const parsed = spec.args.safeParse(body);
        if (!parsed.success) {
          return reply(400, { ok: false, error: { code: "INVALID_ARGS", message: parsed.error.message } });
        }
        try {
          const result = await handlers.get(name)!(parsed.data);
          return reply(200, { ok: true, result });
        } catch (error) {
          return reply(200, { ok: false, error: errorInfo(error) });
        }
      }
      if (request.method !== "GET") {
        response.writeHead(405).end();
        return;
      }
      const headers: Record<string, string> = { "cache-control": "no-store" };
      if (url.searchParams.get("token") === token) {
        headers["set-cookie"] = `madengine_token=${token}; HttpOnly; SameSite=Strict; Path=/`;
      }
      const relative = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname.slice(1));
      const file = path.resolve(options.staticDir, relative);
      if (!file.startsWith(path.resolve(options.staticDir) + path.sep)) {
        response.writeHead(403).end();
        return;
      }
      const content = await readFile(file);
      headers["content-type"] = MIME[path.extname(file)] ?? "application/octet-stream";
      response.writeHead(200, headers).end(content);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") response.writeHead(404).end("not found");
      else response.writeHead(500).end(String(error));
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request, socket, head) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const cookieToken = /(?:^|;\s*)madengine_token=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
    const ok =
      url.pathname === "/api/events" && (url.searchParams.get("token") === token || cookieToken === token);
    if (!ok || Date.now() < refuseUntil) {
      socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.on("close", () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    token,
    port,
    calls,
    jobs,
    docker,
    handle: (name, handler) => handlers.set(name, handler),
    emit,
    emitRaw: (message) => send(message),
    pushLines(jobId, source, lines, pushOptions = {}) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      let log = job.logs.get(source);
      if (!log) {
        log = [];
        job.logs.set(source, log);
        job.summary = {
          ...job.summary,
          logs: [...job.summary.logs, { source, file: `/fake/logs/${source}.log` }],
        };
        emit("job.updated", { job: job.summary, items: job.items });
      }
      const firstLine = log.length;
      log.push(...lines);
      if (pushOptions.emit !== false) emit("log.lines", { jobId, source, firstLine, lines });
    },
    updateJob(jobId, patch, items) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      job.summary = { ...job.summary, ...patch };
      if (items) job.items = items;
      emit("job.updated", { job: job.summary, items: job.items });
    },
    dropSockets(refuseMs = 0) {
      refuseUntil = Date.now() + refuseMs;
      for (const socket of sockets) socket.terminate();
      sockets.clear();
    },
    socketCount: () => [...sockets].filter((s) => s.readyState === WebSocket.OPEN).length,
    async close() {
      for (const socket of sockets) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
