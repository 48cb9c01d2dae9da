import { z } from "zod";
import { nodesCalls, nodesEvents } from "./contract/nodes.js";
import { call, contractErrorSchema } from "./contract/primitives.js";
import { resultsCalls, resultsEvents } from "./contract/results.js";
import { contextSchema } from "./schemas/context.js";
import { buildManifestSchema } from "./schemas/manifest.js";
import { modelEntrySchema } from "./schemas/model.js";
import { perfRowSchema } from "./schemas/perf.js";

export { type ContractError, contractErrorSchema } from "./contract/primitives.js";

/**
 * The one contract between the engine's faces (Electron IPC, the web bridge) and the renderer:
 * every call (arguments and result) and every event, declared once with zod. The IPC layer, the
 * web bridge and the renderer's client are all driven by this table; nothing crosses otherwise.
 */

export const callResponseSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: contractErrorSchema }),
]);

const discoveredModelSchema = z.object({
  model: modelEntrySchema,
  source: z.object({
    kind: z.enum(["root", "subdir", "dynamic"]),
    file: z.string(),
    dir: z.string().optional(),
  }),
});

const jobKindSchema = z.enum(["build", "run"]);

/** One node of a run on GPU nodes. */
export const jobNodeSchema = z.object({
  name: z.string(),
  address: z.string().optional(),
  state: z.enum(["connecting", "ready", "running", "done", "failed", "lost", "cancelled", "detached"]),
  detail: z.string().optional(),
  succeeded: z.number().int(),
  failed: z.number().int(),
});
export type JobNode = z.output<typeof jobNodeSchema>;
const jobStateSchema = z.enum(["running", "succeeded", "failed", "cancelled"]);

export const jobSummarySchema = z.object({
  id: z.string(),
  kind: jobKindSchema,
  state: jobStateSchema,
  title: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  exitCode: z.number().optional(),
  /** Where the job writes: manifest, summary, perf.csv, logs. */
  outputDir: z.string(),
  manifestFile: z.string().optional(),
  /** Log sources of this job (one per image/model), for the log viewer. */
  logs: z.array(z.object({ source: z.string(), file: z.string() })),
  /** The run's id in the results history and its journal (run jobs). */
  runId: z.string().optional(),
  /** A run on GPU nodes: where each node stands. */
  nodes: z.array(jobNodeSchema).optional(),
  /** When the job was picked up again after the app restarted (it went on where it was). */
  resumedAt: z.string().optional(),
});
export type JobSummary = z.output<typeof jobSummarySchema>;

/** A row of the per-image / per-model progress table of a job. */
export const jobItemSchema = z.object({
  key: z.string(),
  label: z.string(),
  /** The node a run row belongs to (runs on GPU nodes: one row per node and model). */
  node: z.string().optional(),
  state: z.enum([
    "queued",
    "building",
    "built",
    "up to date",
    "pushing",
    "pushed",
    "running",
    "succeeded",
    "failed",
    "skipped",
  ]),
  detail: z.string().optional(),
  durationSec: z.number().optional(),
});
export type JobItem = z.output<typeof jobItemSchema>;

const buildRequestSchema = z.object({
  madRoot: z.string().optional(),
  tags: z.array(z.string()).min(1, "at least one tag"),
  /** The context as JSON text, exactly what the user typed (validated by the engine). */
  context: z.string(),
  registry: z.string().optional(),
  cleanDockerCache: z.boolean().optional(),
});

const runRequestSchema = z.object({
  madRoot: z.string().optional(),
  /** Run this manifest; without it, the tags are built first. */
  manifestFile: z.string().optional(),
  tags: z.array(z.string()).optional(),
  context: z.string().optional(),
  timeoutSec: z.number().int().min(0).optional(),
  keepAlive: z.boolean().optional(),
  /** Run on these GPU nodes of the app's nodes file (by name) instead of this machine. */
  nodes: z.array(z.string().min(1)).optional(),
  /** Or on the nodes with these labels (`key=value`). */
  labels: z.array(z.string().min(1)).optional(),
  /** replicate: every model on every node; distribute: each model once, on whichever node is free. */
  strategy: z.enum(["replicate", "distribute"]).optional(),
  /** Nodes running at once (default: all). */
  maxParallel: z.number().int().min(1).optional(),
});

/** Where the Export screen sends a manifest: an Ansible playbook, Kubernetes manifests, a Slurm script, an execution config. */
export const exportTargetSchema = z.enum(["ansible", "k8s", "slurm", "execution-config"]);
export type ExportTarget = z.output<typeof exportTargetSchema>;

const gpusPerNodeSchema = z.number().int().min(1, "at least 1 GPU per node").optional();
const exportTimeoutSchema = z.number().int().min(0, "0 (no timeout) or more seconds").optional();

/** The options of each target, as `madengine-cli generate <target>` / `export-config` take them. */
export const exportOptionsSchemas = {
  ansible: z.object({
    mode: z.enum(["containers", "madengine-cli"]).optional(),
    /** A nodes file (madengine-cli nodes): also write inventory.ini from it. */
    nodesFile: z.string().optional(),
    withAnsibleCfg: z.boolean().optional(),
    registry: z.string().optional(),
    timeoutSec: exportTimeoutSchema,
    gpusPerNode: gpusPerNodeSchema,
  }),
  k8s: z.object({
    namespace: z.string().optional(),
    /** key=value labels the Jobs' nodes must have. */
    nodeSelectors: z.array(z.string()).optional(),
    cpuRequest: z.string().optional(),
    cpuLimit: z.string().optional(),
    memoryRequest: z.string().optional(),
    memoryLimit: z.string().optional(),
    imagePullSecret: z.string().optional(),
    registry: z.string().optional(),
    timeoutSec: exportTimeoutSchema,
    gpusPerNode: gpusPerNodeSchema,
    /** Label the objects with this run id (default: one from the time). */
    runId: z.string().optional(),
  }),
  slurm: z.object({
    /** The script's file name (no folders). */
    output: z.string().optional(),
    partition: z.string().optional(),
    registry: z.string().optional(),
    timeoutSec: exportTimeoutSchema,
    gpusPerNode: gpusPerNodeSchema,
  }),
  "execution-config": z.object({ tags: z.array(z.string()).min(1, "at least one tag") }),
} as const;

/** One request of the Export screen: the target, its options, and what they apply to. */
function exportRequestSchema<E extends z.ZodRawShape>(extra: E) {
  const common = {
    madRoot: z.string().optional(),
    /** Context overrides as JSON text, merged over the manifest's (execution config: the whole context). */
    context: z.string().optional(),
    ...extra,
  };
  const manifestFile = z.string().min(1, "a manifest file");
  return z.discriminatedUnion("target", [
    z.object({
      target: z.literal("ansible"),
      manifestFile,
      options: exportOptionsSchemas.ansible,
      ...common,
    }),
    z.object({ target: z.literal("k8s"), manifestFile, options: exportOptionsSchemas.k8s, ...common }),
    z.object({ target: z.literal("slurm"), manifestFile, options: exportOptionsSchemas.slurm, ...common }),
    z.object({
      target: z.literal("execution-config"),
      /** Not needed: an execution config is made from tags and a context. */
      manifestFile: z.string().optional(),
      options: exportOptionsSchemas["execution-config"],
      ...common,
    }),
  ]);
}

export const exportFileSchema = z.object({
  name: z.string(),
  language: z.enum(["yaml", "json", "shell", "ini", "text"]),
  content: z.string(),
});
export type ExportFile = z.output<typeof exportFileSchema>;

export const contractCalls = {
  /** Engine version, Docker reachability: the status bar. */
  "engine.status": call(
    z.object({}),
    z.object({
      version: z.string(),
      defaultMadRoot: z.string(),
      docker: z.object({
        ok: z.boolean(),
        endpoint: z.string(),
        version: z.string().optional(),
        error: z.string().optional(),
        hint: z.string().optional(),
      }),
    }),
  ),
  /** Every model of a MAD root (the bundled zoo when none is given). */
  "zoo.discover": call(
    z.object({ madRoot: z.string().optional() }),
    z.object({ root: z.string(), models: z.array(discoveredModelSchema) }),
  ),
  /** The models a tag selection picks (with tag arguments applied). */
  "zoo.select": call(
    z.object({ madRoot: z.string().optional(), tags: z.array(z.string()) }),
    z.object({ models: z.array(modelEntrySchema) }),
  ),
  /** Validates context JSON as the engine will (for live form feedback). */
  "context.validate": call(
    z.object({ json: z.string(), requireBuildTarget: z.boolean().optional() }),
    z.union([
      z.object({ ok: z.literal(true), context: contextSchema }),
      z.object({ ok: z.literal(false), error: contractErrorSchema }),
    ]),
  ),
  "build.start": call(buildRequestSchema, z.object({ job: jobSummarySchema })),
  "run.start": call(runRequestSchema, z.object({ job: jobSummarySchema })),
  "jobs.list": call(z.object({}), z.object({ jobs: z.array(jobSummarySchema) })),
  "jobs.get": call(
    z.object({ id: z.string() }),
    z.object({ job: jobSummarySchema, items: z.array(jobItemSchema) }),
  ),
  "jobs.cancel": call(z.object({ id: z.string() }), z.object({ cancelled: z.boolean() })),
  /** Cancels one node of a run on GPU nodes; the other nodes go on. */
  "jobs.cancelNode": call(
    z.object({ id: z.string(), node: z.string() }),
    z.object({ cancelled: z.boolean() }),
  ),
  /** Lines of a job's log from `fromLine` (0-based), for the viewer's first paint and after a reload. */
  "logs.read": call(
    z.object({
      jobId: z.string(),
      source: z.string(),
      fromLine: z.number().int().min(0),
      maxLines: z.number().int().min(1).max(100_000).optional(),
    }),
    z.object({ lines: z.array(z.string()), nextLine: z.number().int(), complete: z.boolean() }),
  ),
  "manifest.read": call(z.object({ file: z.string() }), z.object({ manifest: buildManifestSchema })),
  /**
   * A native folder picker (the desktop app only; a browser has no access to the machine's folders,
   * so the web bridge answers supported: false and the path field is the way).
   */
  "dialog.pickDirectory": call(
    z.object({ title: z.string().optional() }),
    z.object({ supported: z.boolean(), path: z.string().optional() }),
  ),
  /** The files a target would get, generated in memory (nothing is written); binary files are only named in notes. */
  "export.preview": call(
    exportRequestSchema({}),
    z.object({ files: z.array(exportFileSchema), notes: z.array(z.string()) }),
  ),
  /** Writes a target's files into `outputDir` (created when missing); answers the paths written. */
  "export.save": call(
    exportRequestSchema({ outputDir: z.string().min(1, "an output directory") }),
    z.object({ written: z.array(z.string()), notes: z.array(z.string()) }),
  ),
  /** Rows a run job appended to perf.csv. */
  "results.forJob": call(z.object({ jobId: z.string() }), z.object({ rows: z.array(perfRowSchema) })),
  ...resultsCalls,
  ...nodesCalls,
} as const;

export type ContractCalls = typeof contractCalls;
export type CallName = keyof ContractCalls;
export type CallArgs<N extends CallName> = z.input<ContractCalls[N]["args"]>;
export type CallResult<N extends CallName> = z.output<ContractCalls[N]["result"]>;

/** Events, pushed from the engine to the renderer. Log lines arrive batched (coalesced ~16 ms). */
export const contractEvents = {
  "job.updated": z.object({ job: jobSummarySchema, items: z.array(jobItemSchema) }),
  "log.lines": z.object({
    jobId: z.string(),
    source: z.string(),
    /** Line number (0-based) of lines[0] in that log: a gap means lines were skipped (back-pressure). */
    firstLine: z.number().int(),
    lines: z.array(z.string()),
  }),
  "engine.notice": z.object({ level: z.enum(["info", "warn", "error"]), message: z.string() }),
  ...resultsEvents,
  ...nodesEvents,
} as const;

export type ContractEvents = typeof contractEvents;
export type EventName = keyof ContractEvents;
export type EventPayload<N extends EventName> = z.output<ContractEvents[N]>;

/** The envelope every event travels in (WebSocket message or IPC payload). */
export const eventEnvelopeSchema = z.object({ event: z.string(), payload: z.unknown() });

/** The channel names used on Electron IPC: one per call, one for all events. */
export const IPC_CALL_PREFIX = "madengine:call:";
export const IPC_EVENT_CHANNEL = "madengine:event";
