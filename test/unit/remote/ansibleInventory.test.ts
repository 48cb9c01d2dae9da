import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  expandHostPattern,
  nodesFromAnsibleInventory,
  parseAnsibleInventory,
} from "../../../src-main/engine/remote/inventory/ansibleInventory.js";
import { rejection, thrown } from "../../helpers/errors.js";
import { tempTree } from "../../helpers/tempDir.js";

function inventoryFile(text: string): string {
  const file = path.join(tempTree(), "inventory.ini");
  writeFileSync(file, text);
  return file;
}

/** The example from madengine's distributed-execution docs. */
const MADENGINE_EXAMPLE = `# GPU cluster
[gpu_nodes]
node1 ansible_host=10.0.0.1 ansible_user=root ansible_port=2222 ansible_ssh_private_key_file=~/.ssh/id_rsa gpu=MI300X
node2 ansible_host=10.0.0.2 ansible_user=root ansible_ssh_private_key_file=~/.ssh/id_rsa gpu=MI250

[gpu_nodes:vars]
gpu_vendor=AMD
rack = "row 3"
`;

describe("parseAnsibleInventory", () => {
  it("reads groups, host variables and group variables", () => {
    const inventory = parseAnsibleInventory(MADENGINE_EXAMPLE, "inv.ini");
    expect(inventory.groups).toEqual({
      all: ["node1", "node2"],
      ungrouped: [],
      gpu_nodes: ["node1", "node2"],
    });
    expect(inventory.hosts.node1).toEqual({
      ansible_host: "10.0.0.1",
      ansible_user: "root",
      ansible_port: "2222",
      ansible_ssh_private_key_file: "~/.ssh/id_rsa",
      gpu: "MI300X",
      gpu_vendor: "AMD",
      rack: "row 3",
    });
    expect(inventory.warnings).toEqual([]);
  });

  it("handles comments (# and ;), quotes, escapes and inline comments like Ansible's shlex", () => {
    const text = [
      "; semicolon comment",
      "  # indented comment",
      'ungrouped1 note=\'two words\' other="say \\"hi\\"" path=a\\ b',
      "[g]  # header comment",
      "h1 x=1#inline comment",
    ].join("\n");
    const inventory = parseAnsibleInventory(text, "inv.ini");
    expect(inventory.hosts.ungrouped1).toEqual({ note: "two words", other: 'say "hi"', path: "a b" });
    expect(inventory.groups.ungrouped).toEqual(["ungrouped1"]);
    expect(inventory.hosts.h1).toEqual({ x: "1" });
    // ';' starts a comment only at the start of a line; Ansible rejects a bare ';' token too
    expect(thrown(() => parseAnsibleInventory("[g]\nh2 x=1 ; y=2\n", "inv.ini")).message).toBe(
      'inv.ini:2: expected key=value host variable, found ";"',
    );
  });

  it("applies :children and :vars with Ansible's precedence", () => {
    const text = `
[all:vars]
site=lab
rack=r0
tier=all

[mi300]
gpu1 tier=host
gpu2

[mi250]
gpu3

[gpu_nodes:children]
mi300
mi250

[gpu_nodes:vars]
rack=r1
tier=parent
arch=unknown

[mi300:vars]
arch=gfx942
tier=child

[zz_extra]
gpu1

[zz_extra:vars]
tier=sibling-later-name

[aa_extra]
gpu1

[aa_extra:vars]
tier=sibling-earlier-name
`;
    const inventory = parseAnsibleInventory(text, "inv.ini");
    expect(inventory.groups.gpu_nodes).toEqual(["gpu1", "gpu2", "gpu3"]);
    expect(inventory.children).toEqual({ gpu_nodes: ["mi300", "mi250"] });
    // host var beats every group var
    expect(inventory.hosts.gpu1).toMatchObject({ site: "lab", rack: "r1", arch: "gfx942", tier: "host" });
    // deeper (child) group beats parent, which beats all
    expect(inventory.hosts.gpu2).toMatchObject({ site: "lab", rack: "r1", arch: "gfx942", tier: "child" });
    expect(inventory.hosts.gpu3).toMatchObject({ rack: "r1", arch: "unknown", tier: "parent" });
  });

  it("orders groups of equal depth by name, the later name winning", () => {
    const text = "[b]\nh\n[a]\nh\n[b:vars]\nv=b\n[a:vars]\nv=a\n";
    expect(parseAnsibleInventory(text, "i").hosts.h).toEqual({ v: "b" });
  });

  it("expands host ranges and host:port", () => {
    const text =
      "[gpu_nodes]\nnode[01:03] ansible_user=u\ngpu-[a:b]\nn[0:10:5]\nhost.lab:2200\n[fe80::1]:2201\n";
    const inventory = parseAnsibleInventory(text, "i");
    expect(inventory.groups.gpu_nodes).toEqual([
      "node01",
      "node02",
      "node03",
      "gpu-a",
      "gpu-b",
      "n0",
      "n5",
      "n10",
      "host.lab",
      "fe80::1",
    ]);
    expect(inventory.hosts["host.lab"]).toEqual({ ansible_port: "2200" });
    expect(inventory.hosts["fe80::1"]).toEqual({ ansible_port: "2201" });
    expect(expandHostPattern("r[1:2]-n[1:2]")).toEqual(["r1-n1", "r1-n2", "r2-n1", "r2-n2"]);
    expect(() => expandHostPattern("n[3:1]")).toThrow(/empty range/);
    expect(() => expandHostPattern("n[a:10]")).toThrow(/bad range/);
  });

  it("merges a host listed twice and keeps it once per group", () => {
    const inventory = parseAnsibleInventory("[g]\nh a=1\nh b=2\n[k]\nh a=3\n", "i");
    expect(inventory.groups.g).toEqual(["h"]);
    expect(inventory.hosts.h).toEqual({ a: "3", b: "2" });
  });

  it("never keeps passwords, and says so without repeating them", () => {
    const text =
      "[g]\nh1 ansible_ssh_pass=hunter2 ansible_become_pass=s3cret\n[g:vars]\nansible_password=grouppw\n";
    const inventory = parseAnsibleInventory(text, "inv.ini");
    expect(inventory.hosts.h1).toEqual({});
    expect(inventory.warnings).toHaveLength(3);
    expect(inventory.warnings[0]).toContain('host "h1"');
    expect(inventory.warnings.join("\n")).toMatch(/ansible_ssh_pass.*not imported/);
    for (const secret of ["hunter2", "s3cret", "grouppw"])
      expect(inventory.warnings.join("\n")).not.toContain(secret);
  });

  it("names file and line for malformed input", () => {
    const cases: [string, RegExp][] = [
      ["[g]\nh novalue\n", /^i:2: expected key=value host variable, found "novalue"/],
      ["[g]\nh a='open\n", /^i:2: unterminated quote/],
      ["[g:weird]\n", /^i:1: unknown section type ":weird"/],
      ["[bad group]\n", /^i:1: invalid group name/],
      ["[g\n", /^i:1: invalid section header/],
      ["[g:vars]\nx=1\n", /^i:1: section \[g:vars\] is for a group that is never defined/],
      ["[g]\n[g:vars]\nnovalue\n", /^i:3: expected key=value in \[g:vars\]/],
      ["[p:children]\nc\n", /^i:2: section \[p:children\] includes group "c", which is never defined/],
      ["[p:children]\nc d\n[c]\n", /^i:2: expected one group name/],
      ["[g]\nn[1:x]\n", /^i:2: bad range/],
    ];
    for (const [text, message] of cases) {
      const error = thrown(() => parseAnsibleInventory(text, "i"));
      expect(error.message, text).toMatch(message);
      expect(error.file).toBe("i");
    }
  });

  it("accepts vars and children for groups defined later, and refuses cycles", () => {
    const later = parseAnsibleInventory("[p:vars]\nx=1\n[p:children]\nc\n[c]\nh\n", "i");
    expect(later.hosts.h).toEqual({ x: "1" });
    const error = thrown(() => parseAnsibleInventory("[a:children]\nb\n[b:children]\na\n", "i"));
    expect(error.message).toMatch(/its own child \(a -> b -> a\)|its own child \(b -> a -> b\)/);
  });
});

describe("nodesFromAnsibleInventory", () => {
  it("imports the documented madengine example", async () => {
    const file = inventoryFile(MADENGINE_EXAMPLE);
    const { nodes, warnings } = await nodesFromAnsibleInventory(file);
    expect(warnings).toEqual([]);
    expect(nodes).toEqual([
      {
        name: "node1",
        host: "10.0.0.1",
        port: 2222,
        user: "root",
        identityFile: "~/.ssh/id_rsa",
        labels: { gpu: "MI300X", gpu_vendor: "AMD", rack: "row 3" },
        dockerSocket: "/var/run/docker.sock",
        workDir: "~/madengine",
      },
      {
        name: "node2",
        host: "10.0.0.2",
        port: 22,
        user: "root",
        identityFile: "~/.ssh/id_rsa",
        labels: { gpu: "MI250", gpu_vendor: "AMD", rack: "row 3" },
        dockerSocket: "/var/run/docker.sock",
        workDir: "~/madengine",
      },
    ]);
  });

  it("imports the testbed's inventory.ini, taking UserKnownHostsFile from ansible_ssh_common_args", async () => {
    const text = [
      "[gpu_nodes]",
      "node1 ansible_host=127.0.100.1 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=/tb/id",
      "node2 ansible_host=127.0.100.2 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=/tb/id",
      "",
      "[gpu_nodes:vars]",
      "ansible_ssh_common_args='-o UserKnownHostsFile=/tb/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'",
    ].join("\n");
    const { nodes } = await nodesFromAnsibleInventory(inventoryFile(text));
    expect(nodes.map((n) => [n.name, n.host, n.port, n.identityFile, n.knownHostsFile, n.labels])).toEqual([
      ["node1", "127.0.100.1", 2222, "/tb/id", "/tb/known_hosts", {}],
      ["node2", "127.0.100.2", 2222, "/tb/id", "/tb/known_hosts", {}],
    ]);
  });

  it("defaults the host to the alias, takes legacy variable names and ProxyJump from ssh args", async () => {
    const text = [
      "[gpu_nodes]",
      "gpu1",
      "gpu2 ansible_ssh_host=10.0.0.2 ansible_ssh_user=ops ansible_ssh_port=2200 ansible_private_key_file=/k",
      'gpu3 ansible_ssh_extra_args="-J jump@bastion:22"',
      "gpu4 ansible_ssh_common_args='-oProxyJump=bastion -o \"UserKnownHostsFile /kh\"'",
    ].join("\n");
    const { nodes } = await nodesFromAnsibleInventory(inventoryFile(text));
    expect(
      nodes.map((n) => [n.name, n.host, n.user, n.port, n.identityFile, n.proxyJump, n.knownHostsFile]),
    ).toEqual([
      ["gpu1", "gpu1", "root", 22, undefined, undefined, undefined],
      ["gpu2", "10.0.0.2", "ops", 2200, "/k", undefined, undefined],
      ["gpu3", "gpu3", "root", 22, undefined, "jump@bastion:22", undefined],
      ["gpu4", "gpu4", "root", 22, undefined, "bastion", "/kh"],
    ]);
  });

  it("reads another group, including child groups' hosts", async () => {
    const file = inventoryFile("[a]\nh1\n[b]\nh2\n[both:children]\na\nb\n");
    expect((await nodesFromAnsibleInventory(file, "both")).nodes.map((n) => n.name)).toEqual(["h1", "h2"]);
  });

  it("warns about passwords of the imported hosts only", async () => {
    const file = inventoryFile("[gpu_nodes]\nh1 ansible_ssh_pass=pw\n[other]\nh2 ansible_password=pw2\n");
    const { nodes, warnings } = await nodesFromAnsibleInventory(file);
    expect(nodes[0]!.labels).toEqual({});
    expect(JSON.stringify(nodes)).not.toContain("pw");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('host "h1": ansible_ssh_pass is not imported');
  });

  it("warns that a non-SSH ansible_connection is ignored", async () => {
    const file = inventoryFile("[gpu_nodes]\nlocalhost ansible_connection=local\n");
    const { warnings } = await nodesFromAnsibleInventory(file);
    expect(warnings).toEqual([
      `${file}: host "localhost": ansible_connection=local is ignored; the node is reached over SSH`,
    ]);
  });

  it("refuses a missing group, listing the groups found", async () => {
    const file = inventoryFile("[cpu]\nc1\n[mi300]\ng1\n");
    const error = await rejection(nodesFromAnsibleInventory(file));
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toBe(`${file}: no group [gpu_nodes]`);
    expect(error.hint).toBe("groups found: cpu, mi300");
  });

  it("refuses an empty group, a bad port, a bad node name, and a missing file", async () => {
    expect((await rejection(nodesFromAnsibleInventory(inventoryFile("[gpu_nodes]\n")))).message).toContain(
      "has no hosts",
    );
    expect(
      (await rejection(nodesFromAnsibleInventory(inventoryFile("[gpu_nodes]\nh ansible_port=99999\n"))))
        .message,
    ).toContain('ansible_port must be 1-65535, found "99999"');
    expect(
      (await rejection(nodesFromAnsibleInventory(inventoryFile("[gpu_nodes]\nfe80::1\n")))).message,
    ).toContain("not a valid node name");
    expect(
      (await rejection(nodesFromAnsibleInventory(inventoryFile("[gpu_nodes]\nh ansible_host='a b'\n"))))
        .message,
    ).toContain('host "h" cannot become a node: host');
    expect((await rejection(nodesFromAnsibleInventory(path.join(tempTree(), "none")))).code).toBe(
      "FILE_NOT_FOUND",
    );
  });
});
