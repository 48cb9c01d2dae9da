import { describe, expect, it } from "vitest";
import { Redactor } from "../../../src-main/engine/util/redact.js";

describe("Redactor", () => {
  it("replaces every occurrence of every secret", () => {
    const redactor = new Redactor(["hunter2", "ghp_token"]);
    expect(redactor.redact("login hunter2 then hunter2; token=ghp_token")).toBe(
      "login *** then ***; token=***",
    );
  });

  it("leaves text without secrets alone", () => {
    const redactor = new Redactor(["hunter2"]);
    expect(redactor.redact("nothing to see")).toBe("nothing to see");
    expect(redactor.redact("")).toBe("");
  });

  it("hides a secret that contains another one whole", () => {
    const redactor = new Redactor(["abc", "abcdef"]);
    expect(redactor.redact("x abcdef y abc z")).toBe("x *** y *** z");
    expect(new Redactor(["abcdef", "abc"]).redact("abcdef")).toBe("***");
  });

  it("ignores secrets shorter than 3 characters", () => {
    const redactor = new Redactor(["", "a", "ab"]);
    expect(redactor.isEmpty).toBe(true);
    expect(redactor.redact("a ab abc")).toBe("a ab abc");
    expect(new Redactor([]).isEmpty).toBe(true);
    expect(new Redactor(["abc"]).isEmpty).toBe(false);
  });

  it("treats regular-expression and shell characters literally", () => {
    const secrets = ["p@ss.w*rd", "$(id)", "a+b?", "[x]{2}", "back\\slash", "quo'te\"s"];
    const redactor = new Redactor(secrets);
    for (const secret of secrets) expect(redactor.redact(`<${secret}>`)).toBe("<***>");
    expect(redactor.redact("pXss.wwrd id a+b")).toBe("pXss.wwrd id a+b");
  });

  it("handles multi-line text, unicode and duplicate secrets", () => {
    const redactor = new Redactor(["sécret✓", "sécret✓", "line\nbreak"]);
    expect(redactor.redact("1 sécret✓\n2 sécret✓\nline\nbreak")).toBe("1 ***\n2 ***\n***");
  });

  it("accepts any iterable", () => {
    const redactor = new Redactor(new Set(["topsecret"]));
    expect(redactor.redact("topsecret!")).toBe("***!");
  });

  it("does not let the mask itself reveal a secret made of asterisks", () => {
    const redactor = new Redactor(["****"]);
    expect(redactor.redact("a****b")).toBe("a***b");
  });
});
