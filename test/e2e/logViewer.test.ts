/**
 * The LogViewer in real Chromium (the harness page in src-renderer/harness, built with Vite and
 * served on 127.0.0.1): virtualisation at a million lines, ANSI colours as classes, markup that
 * stays text, search, follow mode, keyboard, copy and save.
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Browser, launchBrowser, SCREENSHOT_DIR } from "./helpers/browser.js";
import {
  absent,
  computedStyle,
  focused,
  hasAttribute,
  hasCount,
  hasText,
  visible,
} from "./helpers/expectations.js";
import { buildHarness, type StaticServer, serveStatic } from "./helpers/pages.js";

let browser: Browser;
let server: StaticServer;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await serveStatic(await buildHarness());
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  page?.isClosed() === false && (await page.close());
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction("window.harness !== undefined");
});

async function append(lines: string[]): Promise<void> {
  await page.evaluate(`window.harness.append(${JSON.stringify(lines)})`);
}
async function feed(total: number, batch = 5000): Promise<void> {
  await page.evaluate(`window.harness.feed(${total}, ${batch})`);
}
async function rowCount(): Promise<number> {
  return page.locator(".log-row").count();
}
/** Line numbers (1-based) of the rows in the DOM. */
async function renderedLineNumbers(): Promise<number[]> {
  return (await page.locator(".log-row .log-ln").allTextContents()).map(Number);
}
async function isRowVisible(lineNumber: number): Promise<boolean> {
  const row = page.locator(".log-row", {
    has: page.locator(".log-ln", { hasText: new RegExp(`^${lineNumber}$`) }),
  });
  if ((await row.count()) === 0) return false;
  const [box, view] = await Promise.all([
    row.first().boundingBox(),
    page.locator(".log-scroller").boundingBox(),
  ]);
  return (
    box !== null && view !== null && box.y >= view.y - 1 && box.y + box.height <= view.y + view.height + 1
  );
}
const footer = () => page.locator(".log-count");

describe("LogViewer in Chromium", () => {
  it("keeps the DOM small with 1,000,000 lines and shows the newest line", async () => {
    await feed(1_000_000, 10_000);
    await expect.poll(() => footer().textContent(), { timeout: 30_000 }).toBe("1,000,000 lines");
    const rows = await rowCount();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(80);
    expect(await page.locator(".log-layer *").count()).toBeLessThan(600);
    await expect.poll(() => isRowVisible(1_000_000)).toBe(true);

    // the middle of the log, through the (scaled) scrollbar
    await page.evaluate(
      "(() => { const s = document.querySelector('.log-scroller'); s.scrollTop = (s.scrollHeight - s.clientHeight) / 2; })()",
    );
    await expect
      .poll(async () => {
        const numbers = await renderedLineNumbers();
        return numbers.length > 0 && numbers[0]! > 480_000 && numbers[numbers.length - 1]! < 520_000;
      })
      .toBe(true);
    expect(await rowCount()).toBeLessThan(80);
    await visible(page.getByRole("button", { name: "Jump to latest ↓" }));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "logviewer-million-lines.png") });
  });

  it("renders ANSI colours as classes and keeps markup in a line as text", async () => {
    const hostile = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>not bold</b>`;
    await append([
      "\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[0m",
      "\x1b[38;5;196mindexed\x1b[39m \x1b[44mblue background\x1b[49m \x1b[4munderlined\x1b[24m",
      hostile,
      "\x1b]0;window title\x07after an OSC title",
      "progress 10%\rprogress 100%",
      "tab\tseparated \x1b[2Kerased",
    ]);
    await expect.poll(() => rowCount()).toBe(6);
    const red = page.locator(".log-row .ansi-fg-1", { hasText: "red" });
    await hasCount(red, 1);
    expect(await computedStyle(red, "color")).toBe("rgb(240, 112, 106)");
    const boldGreen = page.locator(".ansi-fg-2.ansi-bold");
    await hasText(boldGreen, "bold green");
    expect(await computedStyle(boldGreen, "font-weight")).toBe("700");
    await hasText(page.locator(".ansi-bg-4"), "blue background");
    await hasText(page.locator(".ansi-underline"), "underlined");
    await hasCount(page.locator('[class*="ansi-fg-"]', { hasText: "indexed" }), 1);

    const texts = await page.locator(".log-row .log-text").allTextContents();
    expect(texts[0]).toBe("red plain bold green");
    expect(texts[2]).toBe(hostile);
    expect(texts[3]).toBe("after an OSC title");
    expect(texts[4]).toBe("progress 100%");
    expect(texts[5]).toBe("tab\tseparated erased");
    expect(await page.locator(".log-layer script, .log-layer img, .log-layer b").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    expect(texts.join("")).not.toContain("\x1b");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "logviewer-ansi.png") });
  });

  it("searches with next / previous and highlights the matches", async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i}: nothing to see`);
    lines[100] = "line 100: the \x1b[33mNeedle\x1b[0m is here";
    lines[5000] = "line 5000: needle and another needle";
    lines[9000] = "line 9000: last NEEDLE";
    await append(lines);
    await hasText(footer(), "10,000 lines");

    const search = page.getByRole("searchbox", { name: "Search Harness log" });
    await search.fill("needle");
    const count = page.locator(".log-match-count");
    await hasText(count, "1 of 4");
    const current = page.locator(".log-match-current");
    await hasCount(current, 1);
    await hasText(current, "Needle");
    expect(await isRowVisible(101)).toBe(true);
    // a match inside a coloured segment keeps its colour class
    expect(await current.getAttribute("class")).toMatch(/ansi-fg-3/);

    await search.press("Enter");
    await hasText(count, "2 of 4");
    await expect.poll(() => isRowVisible(5001)).toBe(true);
    await hasCount(page.locator(".log-row", { hasText: "line 5000:" }).locator(".log-match"), 2);

    await search.press("Enter");
    await hasText(count, "3 of 4");
    await search.press("Enter");
    await hasText(count, "4 of 4");
    await expect.poll(() => isRowVisible(9001)).toBe(true);
    await hasText(current, "NEEDLE");
    await search.press("Enter");
    await hasText(count, "1 of 4"); // wraps

    await search.press("Shift+Enter");
    await hasText(count, "4 of 4");
    await page.getByRole("button", { name: "Previous match" }).click();
    await hasText(count, "3 of 4");
    await page.getByRole("button", { name: "Next match" }).click();
    await hasText(count, "4 of 4");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "logviewer-search.png") });

    // new lines are searched as they arrive
    await append(["a late needle"]);
    await hasText(count, "4 of 5");

    await search.fill("no such text");
    await hasText(count, "No matches");
    await search.press("Escape");
    expect(await search.inputValue()).toBe("");
    await absent(page.locator(".log-match"));
  });

  it("pauses follow when the user scrolls up; Jump to latest resumes it", async () => {
    await feed(5000, 1000);
    await hasText(footer(), "5,000 lines");
    const follow = page.getByRole("button", { name: "Follow" });
    const jump = page.getByRole("button", { name: "Jump to latest ↓" });
    await hasAttribute(follow, "aria-pressed", "true");
    await expect.poll(() => isRowVisible(5000)).toBe(true);
    await absent(jump);

    await page.locator(".log-scroller").hover();
    await page.mouse.wheel(0, -1500);
    await visible(jump);
    await hasAttribute(follow, "aria-pressed", "false");
    await expect.poll(() => isRowVisible(5000)).toBe(false);
    const before = await renderedLineNumbers();

    await feed(1000, 100);
    await hasText(footer(), "6,000 lines");
    expect(await isRowVisible(6000)).toBe(false);
    expect(await renderedLineNumbers()).toEqual(before); // the view did not move
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "logviewer-follow-paused.png") });

    await jump.click();
    await expect.poll(() => isRowVisible(6000)).toBe(true);
    await absent(jump);
    await hasAttribute(follow, "aria-pressed", "true");

    await feed(500, 50);
    await hasText(footer(), "6,500 lines");
    await expect.poll(() => isRowVisible(6500)).toBe(true);
  });

  it("is keyboard accessible: Home, End, Ctrl+F and Escape", async () => {
    await feed(2000, 1000);
    const scroller = page.getByRole("region", { name: "Harness log", exact: true });
    await scroller.focus();
    await page.keyboard.press("Home");
    await expect.poll(() => isRowVisible(1)).toBe(true);
    await hasAttribute(page.getByRole("button", { name: "Follow" }), "aria-pressed", "false");
    await page.keyboard.press("PageDown");
    await expect.poll(() => isRowVisible(1)).toBe(false);
    await page.keyboard.press("End");
    await expect.poll(() => isRowVisible(2000)).toBe(true);
    await hasAttribute(page.getByRole("button", { name: "Follow" }), "aria-pressed", "true");

    await page.keyboard.press("Control+f");
    await focused(page.getByRole("searchbox", { name: "Search Harness log" }));
    await page.keyboard.type("line 1999");
    await hasText(page.locator(".log-match-count"), "1 of 1");
    await page.keyboard.press("Escape");
    await focused(scroller);
  });

  it("copies the selection or the whole log, and saves it as a .log file", async () => {
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await append(["\x1b[31mfirst\x1b[0m line", "second line", "third line"]);
    await hasText(footer(), "3 lines");

    await page.getByRole("button", { name: "Copy" }).click();
    await hasText(page.getByRole("status").filter({ hasText: "Copied" }), "Copied 3 lines");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("first line\nsecond line\nthird line");

    // select the text of the second row, then copy
    await page.evaluate(`(() => {
      const text = document.querySelectorAll('.log-row .log-text')[1];
      const range = document.createRange();
      range.selectNodeContents(text);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    })()`);
    await page.getByRole("button", { name: "Copy" }).click();
    await hasText(page.getByRole("status").filter({ hasText: "Copied" }), "Copied the selection");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("second line");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Save" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("harness.log");
    const saved = await readFile((await download.path())!, "utf8");
    expect(saved).toBe("first line\nsecond line\nthird line\n");
  });
});
