import path from "node:path";
import type { Command } from "commander";
import { MadError } from "../../../shared/errors.js";
import { runBuildPhase } from "../../engine/build/buildPhase.js";
import { loadContext, requireBuildTarget } from "../../engine/context/loadContext.js";
import { connectDocker } from "../../engine/docker/client.js";
import { type AuditFacts, audited, newAuditFacts, preloadAudit } from "../auditTrail.js";
import { givenOptions, tagsOf } from "../options.js";
import { BuildProgressView } from "../output/buildProgress.js";
import { bold, dim } from "../output/style.js";
import { renderTable } from "../output/table.js";

export interface BuildCommandOptions {
  madRoot?: string;
  tags?: string[];
  registry?: string;
  additionalContext?: string;
  additionalContextFile?: string;
  cleanDockerCache?: boolean;
  manifestOutput: string;
  summaryOutput?: string;
  liveOutput?: boolean;
  jobs?: string;
}

const NO_EFFECT_IN_BUILD = [
  "output",
  "ignoreDeprecated",
  "dataConfig",
  "toolsConfig",
  "sysEnvDetails",
  "forceMirrorLocal",
  "disableSkipGpuArch",
];

function parseJobs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new MadError("INVALID_ARGS", `--jobs ${value}: expected a whole number of at least 1`, {
      hint: "e.g. --jobs 4",
    });
  }
  return jobs;
}

/** `build`, with an audit log entry at its end (failures included). */
export async function runBuildCommand(options: BuildCommandOptions, command: Command): Promise<number> {
  const facts = newAuditFacts();
  return audited("build", facts, () => buildCommand(options, command, facts));
}

async function buildCommand(
  options: BuildCommandOptions,
  command: Command,
  facts: AuditFacts,
): Promise<number> {
  const tags = tagsOf(options.tags);
  if (tags.length === 0) {
    throw new MadError("INVALID_ARGS", "no models selected: build needs --tags", {
      hint: 'e.g. madengine-cli build --tags dummies -c \'{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}\'',
    });
  }
  const jobs = parseJobs(options.jobs);
  const { context, secretNames } = await loadContext({
    additionalContext: options.additionalContext,
    additionalContextFile: options.additionalContextFile,
  });
  requireBuildTarget(context);
  for (const flag of givenOptions(command, NO_EFFECT_IN_BUILD)) {
    process.stderr.write(`note: ${flag} has no effect in build (it is used by run)\n`);
  }

  facts.started = true;
  facts.manifestFile = path.resolve(options.manifestOutput);
  const view = new BuildProgressView({ liveOutput: options.liveOutput === true });
  let result: Awaited<ReturnType<typeof runBuildPhase>>;
  try {
    result = await runBuildPhase(
      {
        madRoot: options.madRoot ?? process.cwd(),
        tags,
        context,
        contextSecretNames: secretNames,
        registry: options.registry,
        cleanDockerCache: options.cleanDockerCache === true,
        manifestOutput: path.resolve(options.manifestOutput),
        summaryOutput: options.summaryOutput ? path.resolve(options.summaryOutput) : undefined,
        logDir: process.cwd(),
        jobs,
        endpoint: connectDocker(),
      },
      (event) => {
        // the daemon is now building: load the audit log's modules while it works (loading them
        // any earlier only adds their CPU time to a build that has nothing to wait for)
        if (event.type === "build:step") preloadAudit();
        view.handle(event);
      },
    );
  } finally {
    view.finish();
  }

  const { summary, manifest } = result;
  const rows = [
    ...summary.successful_builds.map((build) => ({
      image: build.build_info.docker_image,
      model: build.model,
      status: build.build_info.push_failed ? "push failed" : build.up_to_date ? "up to date" : "built",
      seconds: build.build_info.build_duration.toFixed(1),
      pushed: build.build_info.registry_digest
        ? `${build.build_info.registry_image}@${build.build_info.registry_digest.slice(0, 19)}…`
        : "",
    })),
    ...summary.failed_builds.map((failure) => ({
      image: "",
      model: failure.model,
      status: "FAILED",
      seconds: "",
      pushed: failure.error.split("\n")[0] ?? "",
    })),
  ];
  process.stdout.write(
    `\n${renderTable(
      rows,
      [
        { header: "MODEL", value: (row) => row.model },
        { header: "IMAGE", value: (row) => row.image },
        { header: "STATUS", value: (row) => row.status },
        { header: "SECONDS", value: (row) => row.seconds },
        { header: "REGISTRY / ERROR", value: (row) => row.pushed, shrinkable: true },
      ],
      process.stdout.isTTY ? process.stdout.columns : undefined,
    )}\n`,
  );
  const pushFailures = manifest.push_failures?.length ?? 0;
  process.stdout.write(
    `${bold(`${summary.successful_builds.filter((b) => !b.up_to_date).length} built, ${summary.successful_builds.filter((b) => b.up_to_date).length} up to date, ${summary.failed_builds.length} failed${pushFailures ? `, ${pushFailures} push failed` : ""}`)} in ${summary.total_build_time.toFixed(1)} s; manifest ${dim(path.relative(process.cwd(), path.resolve(options.manifestOutput)) || options.manifestOutput)}\n`,
  );
  return result.exitCode;
}
