import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { isAllowedRequest, isAppPage, isSafeExternalUrl } from "../../../src-main/electron/navigation.js";

const rendererDir = "/opt/madengine/resources/app.asar/dist/renderer";
const indexHtml = `${rendererDir}/index.html`;

describe("window URL policies", () => {
  it("opens only plain http(s) links externally", () => {
    expect(isSafeExternalUrl("https://github.com/ROCm/madengine")).toBe(true);
    expect(isSafeExternalUrl("http://127.0.0.1:8080/docs")).toBe(true);
    for (const url of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "smb://share/x",
      "ms-msdt:/id",
      "https://user:pass@example.com/",
      "not a url",
      "data:text/html,<script>",
    ]) {
      expect([url, isSafeExternalUrl(url)]).toEqual([url, false]);
    }
  });

  it("recognises our page, with any route, and nothing else", () => {
    const page = pathToFileURL(indexHtml).href;
    expect(isAppPage(page, indexHtml)).toBe(true);
    expect(isAppPage(`${page}#/jobs/1`, indexHtml)).toBe(true);
    expect(isAppPage(`${page}?x=1`, indexHtml)).toBe(true);
    expect(isAppPage(pathToFileURL(`${rendererDir}/other.html`).href, indexHtml)).toBe(false);
    expect(isAppPage("https://example.com/index.html", indexHtml)).toBe(false);
    expect(isAppPage(`file://evil-host${indexHtml}`, indexHtml)).toBe(false);
    expect(isAppPage(pathToFileURL(`${rendererDir}/../renderer/index.html`).href, indexHtml)).toBe(true);
  });

  it("lets the window load its own files, data images and DevTools, nothing remote", () => {
    expect(isAllowedRequest(pathToFileURL(`${rendererDir}/assets/app.js`).href, rendererDir)).toBe(true);
    expect(isAllowedRequest("data:image/png;base64,AAAA", rendererDir)).toBe(true);
    expect(isAllowedRequest("devtools://devtools/bundled/inspector.html", rendererDir)).toBe(true);
    expect(isAllowedRequest("https://cdn.example.com/x.js", rendererDir)).toBe(false);
    expect(isAllowedRequest("http://127.0.0.1:2375/containers/json", rendererDir)).toBe(false);
    expect(isAllowedRequest("file:///etc/passwd", rendererDir)).toBe(false);
    expect(isAllowedRequest(`file://${rendererDir}/../../package.json`, rendererDir)).toBe(false);
    expect(isAllowedRequest(pathToFileURL(rendererDir).href, rendererDir)).toBe(false);
  });
});
