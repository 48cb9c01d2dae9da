/**
 * The audit log entry of a CLI build or run: what the command learns as it goes (the manifest, the
 * nodes) and, once it ends — with an exit code or an exception — one entry in the results
 * database's audit table. Recording never changes the command's outcome (a warning at most).
 */
import { ExitCode } from "../../shared/errors.js";
import type { AuditKind, AuditOutcome } from "../../shared/schemas/audit.js";

export interface AuditFacts {
  /** Set once the command really starts work (argument errors before that are not audited). */
  started: boolean;
  manifestFile?: string;
  nodes: string[];
}

export function newAuditFacts(): AuditFacts {
  return { started: false, nodes: [] };
}

/** 0 succeeded; 1 (Ctrl-C, the run's "interrupted") ; anything else failed. */
export function outcomeOfExitCode(code: number): AuditOutcome {
  return code === ExitCode.SUCCESS ? "success" : code === ExitCode.FAILURE ? "interrupted" : "failure";
}

const loadAuditModules = () =>
  Promise.all([import("../engine/store/audit.js"), import("../engine/store/paths.js")]);
let auditModules: ReturnType<typeof loadAuditModules> | undefined;

/**
 * Starts loading the audit log's modules (SQLite's native binding included) ahead of the entry,
 * for a command to call while it waits on something else (the daemon building an image), so that
 * recording at the end does not add their load time. Loading is all it does.
 */
export function preloadAudit(): void {
  if (auditModules) return;
  auditModules = loadAuditModules();
  auditModules.catch(() => {}); // a failed load is reported by record(), which awaits it again
}

async function record(kind: AuditKind, facts: AuditFacts, outcome: AuditOutcome, detail: string | null) {
  const [{ auditEntryFor, appendAudit }, { defaultResultsDbPath }] = await (auditModules ??
    loadAuditModules());
  const entry = await auditEntryFor({
    kind,
    manifestFile: facts.manifestFile ?? null,
    nodes: facts.nodes,
    outcome,
    detail,
  });
  appendAudit(defaultResultsDbPath(), entry, (message) => process.stderr.write(`warning: ${message}\n`));
}

/** Runs a command's work and appends its audit entry at the end, failures included. */
export async function audited(
  kind: AuditKind,
  facts: AuditFacts,
  work: () => Promise<number>,
): Promise<number> {
  let code: number;
  try {
    code = await work();
  } catch (error) {
    if (facts.started) {
      const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
      await record(kind, facts, "failure", message);
    }
    throw error;
  }
  if (facts.started)
    await record(kind, facts, outcomeOfExitCode(code), code === 0 ? null : `exit code ${code}`);
  return code;
}
