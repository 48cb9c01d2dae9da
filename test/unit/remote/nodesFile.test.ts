import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { emptyNodesFile, type NodeInput, type NodesFile } from "../../../shared/schemas/nodes.js";
import {
  addNode,
  mergeImportedNodes,
  parseLabelSelectors,
  readNodesFile,
  readNodesFileOrEmpty,
  removeNode,
  selectNodes,
  writeNodesFile,
} from "../../../src-main/engine/remote/inventory/nodesFile.js";
import { rejection, thrown } from "../../helpers/errors.js";
import { tempTree } from "../../helpers/tempDir.js";

const node = (name: string, extra: Partial<NodeInput> = {}): NodeInput => ({
  name,
  host: `${name}.lab`,
  ...extra,
});

function nodesFileWith(nodes: NodeInput[] | Record<string, unknown>): string {
  const file = path.join(tempTree(), "nodes.json");
  writeFileSync(file, JSON.stringify(Array.isArray(nodes) ? { version: 1, nodes } : nodes, null, 2));
  return file;
}

describe("readNodesFile", () => {
  it("reads and fills defaults", async () => {
    const file = nodesFileWith([node("gpu1", { labels: { gpu: "MI300X" } })]);
    const data = await readNodesFile(file);
    expect(data.nodes[0]).toMatchObject({ name: "gpu1", port: 22, user: "root", labels: { gpu: "MI300X" } });
  });

  it("says how to create a missing file", async () => {
    const file = path.join(tempTree(), "nodes.json");
    const error = await rejection(readNodesFile(file));
    expect(error.code).toBe("FILE_NOT_FOUND");
    expect(error.message).toBe(`${file}: file not found`);
    expect(error.hint).toContain("madengine-cli nodes add");
    expect(error.hint).toContain("nodes import");
    expect(await readNodesFileOrEmpty(file)).toEqual(emptyNodesFile());
  });

  it("names the line of a JSON syntax error", async () => {
    const file = path.join(tempTree(), "nodes.json");
    writeFileSync(file, '{\n  "version": 1,\n  "nodes": [\n    {"name": "a" "host": "b"}\n  ]\n}');
    const error = await rejection(readNodesFile(file));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.message).toMatch(/not valid JSON at line 4/);
  });

  it("names the JSON path of a schema error", async () => {
    const file = nodesFileWith([node("a"), node("b", { port: 70000 })]);
    const error = await rejection(readNodesFile(file));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.path).toBe("nodes[1].port");
    expect(error.message).toBe(`${file}: nodes[1].port: expected a port from 1 to 65535, found number 70000`);
  });

  it("names a duplicate node in one sentence", async () => {
    const file = nodesFileWith([node("a"), node("b"), node("a")]);
    const error = await rejection(readNodesFile(file));
    expect(error.message).toBe(
      `${file}: nodes[2].name: node name "a" is used twice (also nodes[0].name); node names must be unique`,
    );
    expect(error.path).toBe("nodes[2].name");
    expect(error.hint).toBe(`fix nodes[2].name in ${file}`);
  });
});

describe("writeNodesFile", () => {
  it("writes atomically into a new directory, with defaults filled, leaving no temp files", async () => {
    const dir = tempTree();
    const file = path.join(dir, "config", "madengine", "nodes.json");
    const written = await writeNodesFile(file, { version: 1, nodes: [node("gpu1")] });
    expect(written.nodes[0]!.dockerSocket).toBe("/var/run/docker.sock");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(written);
    expect(readFileSync(file, "utf8").endsWith("}\n")).toBe(true);
    expect(readdirSync(path.dirname(file))).toEqual(["nodes.json"]);
    expect(await readNodesFile(file)).toEqual(written);
  });

  it("refuses invalid data and leaves the file as it was", async () => {
    const file = nodesFileWith([node("a")]);
    const before = readFileSync(file, "utf8");
    const error = await rejection(
      writeNodesFile(file, { version: 1, nodes: [node("a"), node("a")] } as unknown as NodesFile),
    );
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toContain('node name "a" is used twice');
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});

describe("addNode and removeNode", () => {
  it("adds to a new file, refuses a second node of the same name, and replaces on request", async () => {
    const file = path.join(tempTree(), "nodes.json");
    const added = await addNode(file, node("gpu1", { port: 2222 }));
    expect(added.port).toBe(2222);
    await addNode(file, node("gpu2"));
    const clash = await rejection(addNode(file, node("gpu1")));
    expect(clash.code).toBe("INVALID_ARGS");
    expect(clash.message).toBe(`${file}: a node named "gpu1" already exists`);
    await addNode(file, node("gpu1", { host: "new.lab" }), { replace: true });
    const data = await readNodesFile(file);
    expect(data.nodes.map((n) => [n.name, n.host, n.port])).toEqual([
      ["gpu1", "new.lab", 22],
      ["gpu2", "gpu2.lab", 22],
    ]);
  });

  it("refuses an invalid node, naming the field", async () => {
    const file = path.join(tempTree(), "nodes.json");
    const error = await rejection(addNode(file, node("bad name")));
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toMatch(/^node "bad name": name: expected a node name made of letters/);
    expect(existsSync(file)).toBe(false);
  });

  it("removes by name; an unknown name lists the names and the nearest", async () => {
    const file = nodesFileWith([node("gpu1"), node("gpu2"), node("storage")]);
    expect((await removeNode(file, "gpu2")).name).toBe("gpu2");
    expect((await readNodesFile(file)).nodes.map((n) => n.name)).toEqual(["gpu1", "storage"]);
    const error = await rejection(removeNode(file, "gpu3"));
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toBe(`${file}: no node named "gpu3" (nodes: gpu1, storage)`);
    expect(error.hint).toBe('did you mean "gpu1"?');
  });

  it("refuses to remove a node that others jump through", async () => {
    const file = nodesFileWith([node("bastion"), node("gpu1", { proxyJump: "user@x, bastion" })]);
    const error = await rejection(removeNode(file, "bastion"));
    expect(error.message).toContain('node "bastion" is the ProxyJump of "gpu1"');
    expect((await readNodesFile(file)).nodes).toHaveLength(2);
  });

  it("reports a missing file when removing", async () => {
    expect((await rejection(removeNode(path.join(tempTree(), "nodes.json"), "x"))).code).toBe(
      "FILE_NOT_FOUND",
    );
  });
});

describe("mergeImportedNodes", () => {
  const existing = (): NodesFile =>
    ({
      version: 1,
      nodes: [node("a"), node("b"), node("c")].map((n) => ({
        port: 22,
        user: "root",
        labels: {},
        dockerSocket: "/var/run/docker.sock",
        workDir: "~/madengine",
        ...n,
      })),
    }) as NodesFile;

  it("appends new nodes", () => {
    const merged = mergeImportedNodes(existing(), [node("d"), node("e", { port: 2200 })], { replace: false });
    expect(merged.nodes.map((n) => n.name)).toEqual(["a", "b", "c", "d", "e"]);
    expect(merged.nodes[4]!.port).toBe(2200);
  });

  it("names every clash when not replacing", () => {
    const error = thrown(() =>
      mergeImportedNodes(existing(), [node("c"), node("d"), node("a")], { replace: false }),
    );
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toBe("nodes already defined: c, a");
    expect(error.hint).toContain("replace");
    expect(thrown(() => mergeImportedNodes(existing(), [node("b")], { replace: false })).message).toBe(
      "a node already defined: b",
    );
  });

  it("replaces clashing nodes in place when asked", () => {
    const merged = mergeImportedNodes(existing(), [node("d"), node("b", { host: "10.0.0.2" })], {
      replace: true,
    });
    expect(merged.nodes.map((n) => [n.name, n.host])).toEqual([
      ["a", "a.lab"],
      ["b", "10.0.0.2"],
      ["c", "c.lab"],
      ["d", "d.lab"],
    ]);
  });

  it("refuses an import that repeats a name or holds an invalid node", () => {
    expect(
      thrown(() => mergeImportedNodes(emptyNodesFile(), [node("x"), node("x")], { replace: true })).message,
    ).toBe("the imported nodes repeat the name x");
    const invalid = thrown(() =>
      mergeImportedNodes(emptyNodesFile(), [node("x", { port: 0 })], { replace: true }),
    );
    expect(invalid.message).toMatch(/^imported node 0 \("x"\): port: expected a port from 1 to 65535/);
  });
});

describe("selectNodes", () => {
  const fleet = () =>
    nodesFileWith([
      node("gpu1", { labels: { gpu: "MI300X", rack: "r1" } }),
      node("gpu2", { labels: { gpu: "MI250", rack: "r1" } }),
      node("gpu3", { labels: { gpu: "MI300X", rack: "r2" } }),
    ]);

  it("returns all nodes, or the named ones in the order given", async () => {
    const file = fleet();
    expect((await selectNodes(file)).map((n) => n.name)).toEqual(["gpu1", "gpu2", "gpu3"]);
    expect((await selectNodes(file, [])).map((n) => n.name)).toEqual(["gpu1", "gpu2", "gpu3"]);
    expect((await selectNodes(file, ["gpu3", "gpu1", "gpu3"])).map((n) => n.name)).toEqual(["gpu3", "gpu1"]);
  });

  it("filters by every label given", async () => {
    const file = fleet();
    expect((await selectNodes(file, undefined, { gpu: "MI300X" })).map((n) => n.name)).toEqual([
      "gpu1",
      "gpu3",
    ]);
    expect((await selectNodes(file, undefined, { gpu: "MI300X", rack: "r2" })).map((n) => n.name)).toEqual([
      "gpu3",
    ]);
    expect((await selectNodes(file, ["gpu1", "gpu2"], { rack: "r1" })).map((n) => n.name)).toEqual([
      "gpu1",
      "gpu2",
    ]);
    expect(
      (await selectNodes(file, undefined, parseLabelSelectors(["gpu=MI250"]))).map((n) => n.name),
    ).toEqual(["gpu2"]);
  });

  it("suggests the nearest names for an unknown one", async () => {
    const error = await rejection(selectNodes(fleet(), ["gpu4"]));
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toContain('no node named "gpu4" (nodes: gpu1, gpu2, gpu3)');
    expect(error.hint).toBe('did you mean "gpu1", "gpu2", "gpu3"?');
  });

  it("says which labels exist when none match", async () => {
    const error = await rejection(selectNodes(fleet(), undefined, { gpu: "H100" }));
    expect(error.message).toContain("no node has the labels gpu=H100");
    expect(error.hint).toBe("labels in use: gpu=MI250, gpu=MI300X, rack=r1, rack=r2");
  });

  it("refuses an empty nodes file", async () => {
    const error = await rejection(selectNodes(nodesFileWith([])));
    expect(error.message).toContain("no nodes defined");
    expect(error.hint).toContain("nodes add");
  });
});

describe("parseLabelSelectors", () => {
  it("parses key=value selectors", () => {
    expect(parseLabelSelectors(["gpu=MI300X", " rack = r1 ", "empty=", "eq=a=b"])).toEqual({
      gpu: "MI300X",
      rack: "r1",
      empty: "",
      eq: "a=b",
    });
    expect(parseLabelSelectors(["a=1", "a=1"])).toEqual({ a: "1" });
  });

  it("refuses selectors without a key or with two values for one key", () => {
    expect(thrown(() => parseLabelSelectors(["gpu"])).message).toContain('not a label selector: "gpu"');
    expect(thrown(() => parseLabelSelectors(["=x"])).code).toBe("INVALID_ARGS");
    expect(thrown(() => parseLabelSelectors(["a=1", "a=2"])).message).toContain("two values");
  });
});
