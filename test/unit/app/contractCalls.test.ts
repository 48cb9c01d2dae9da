import { describe, expect, it } from "vitest";
import { contractCalls } from "../../../shared/contract.js";
import { MadError } from "../../../shared/errors.js";
import {
  CALL_NAMES,
  type CallHandlers,
  ContractFailure,
  invokeCall,
  isCallName,
  toContractError,
  validateCallArgs,
} from "../../../src-main/app/contractCalls.js";

const notUsed = async (): Promise<never> => {
  throw new Error("not used");
};

function handlers(overrides: Partial<CallHandlers>): CallHandlers {
  const all = Object.fromEntries(CALL_NAMES.map((name) => [name, notUsed])) as unknown as CallHandlers;
  return { ...all, ...overrides };
}

describe("contract call helpers", () => {
  it("knows exactly the contract's calls", () => {
    expect(CALL_NAMES).toEqual(Object.keys(contractCalls));
    expect(isCallName("jobs.list")).toBe(true);
    expect(isCallName("toString")).toBe(false);
    expect(isCallName("__proto__")).toBe(false);
    expect(isCallName(42)).toBe(false);
  });

  it("validates arguments: the error names the path and the expectation, never the value", () => {
    const secret = "hunter2-super-secret";
    const checked = validateCallArgs("build.start", { tags: "dummy", context: 5, registry: secret });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.error.code).toBe("INVALID_ARGS");
    expect(checked.error.path).toBe("tags");
    expect(checked.error.message).toMatch(/^build\.start: tags: .*expected array.*\(and 1 more problem\)$/);
    expect(checked.logLine).toContain("build.start: invalid arguments at tags");
    expect(JSON.stringify(checked)).not.toContain(secret);

    const nested = validateCallArgs("logs.read", { jobId: "j", source: "s", fromLine: -1 });
    expect(!nested.ok && nested.error.path).toBe("fromLine");
    expect(validateCallArgs("jobs.list", {})).toEqual({ ok: true, args: {} });
  });

  it("runs a handler and turns every outcome into a call response", async () => {
    const table = handlers({
      "jobs.list": async () => ({ jobs: [] }),
      "jobs.cancel": async () => {
        throw new MadError("DOCKER_UNAVAILABLE", "no daemon", { hint: "start Docker" });
      },
      "jobs.get": async () => {
        throw new ContractFailure({ code: "NOT_FOUND", message: "no job", hint: "list them" });
      },
      "engine.status": async () => ({ version: 1 }) as never,
    });
    expect(await invokeCall(table, "jobs.list", {})).toEqual({ ok: true, result: { jobs: [] } });
    expect(await invokeCall(table, "jobs.cancel", { id: "x" })).toEqual({
      ok: false,
      error: { code: "DOCKER_UNAVAILABLE", message: "no daemon", hint: "start Docker" },
    });
    expect(await invokeCall(table, "jobs.get", { id: "x" })).toEqual({
      ok: false,
      error: { code: "NOT_FOUND", message: "no job", hint: "list them" },
    });
    const badResult = await invokeCall(table, "engine.status", {});
    expect(!badResult.ok && badResult.error.code).toBe("INTERNAL");
    expect(!badResult.ok && badResult.error.message).toContain("does not match the contract");
    const unknown = await invokeCall(table, "jobs.delete", {});
    expect(!unknown.ok && unknown.error.code).toBe("UNKNOWN_CALL");
    const invalid = await invokeCall(table, "jobs.get", { id: 7 });
    expect(!invalid.ok && invalid.error.code).toBe("INVALID_ARGS");
  });

  it("turns plain exceptions into INTERNAL errors without an exit code", () => {
    expect(toContractError(new Error("boom"))).toEqual({ code: "INTERNAL", message: "boom" });
    expect(toContractError("text")).toEqual({ code: "INTERNAL", message: "text" });
  });
});
