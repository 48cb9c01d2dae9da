/**
 * The health poller with real (short) timers: paused until a lease is taken, paused again when the
 * lease runs out or is given back (connections closed after the grace period), per-probe timeouts
 * that leave other nodes polling, exponential backoff on connection failures, reconnection after a
 * lost connection, change-only batched events, and nothing left running after close().
 */
import { afterEach, describe, expect, it } from "vitest";
import type { NodeHealth } from "../../../shared/contract/nodes.js";
import { type Node, nodeSchema } from "../../../shared/schemas/nodes.js";
import {
  backoffDelay,
  HealthPoller,
  type HealthPollerOptions,
  type ProbedHealth,
} from "../../../src-main/engine/remote/healthPoller.js";

class FakeConnection {
  isClosed = false;
  constructor(readonly node: string) {}
  close(): void {
    this.isClosed = true;
  }
}

const node = (name: string): Node => nodeSchema.parse({ name, host: `${name}.example` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}

interface Harness {
  poller: HealthPoller<FakeConnection>;
  events: NodeHealth[][];
  connections: FakeConnection[];
  probes: Map<string, number>;
  healthsOf(name: string): NodeHealth[];
}

let current: Harness | undefined;

function harness(
  options: Partial<HealthPollerOptions<FakeConnection>> & {
    probeFor?: (name: string, count: number) => Promise<ProbedHealth>;
  } = {},
): Harness {
  const events: NodeHealth[][] = [];
  const connections: FakeConnection[] = [];
  const probes = new Map<string, number>();
  const poller = new HealthPoller<FakeConnection>({
    connect: async (n) => {
      const connection = new FakeConnection(n.name);
      connections.push(connection);
      return connection;
    },
    probe: async (n) => {
      const count = (probes.get(n.name) ?? 0) + 1;
      probes.set(n.name, count);
      if (options.probeFor) return options.probeFor(n.name, count);
      // a changing load, so that every probe is a change
      return { state: "healthy", dockerVersion: "27.5.1", load: [count, 0, 0] };
    },
    onHealth: (healths) => events.push(healths),
    intervalMs: 20,
    probeTimeoutMs: 500,
    idleCloseMs: 60,
    batchMs: 5,
    ...options,
  });
  current = {
    poller,
    events,
    connections,
    probes,
    healthsOf: (name) => events.flat().filter((health) => health.node === name),
  };
  return current;
}

afterEach(async () => {
  await current?.poller.close();
  current = undefined;
});

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the maximum", () => {
    expect([0, 1, 2, 3, 4, 5, 40].map((failures) => backoffDelay(failures, 100, 1000))).toEqual([
      0, 100, 200, 400, 800, 1000, 1000,
    ]);
  });
});

describe("HealthPoller leases", () => {
  it("does nothing until watched: no connection, no probe, every node pending", async () => {
    const h = harness();
    h.poller.setNodes([node("a"), node("b")]);
    await sleep(100);
    expect(h.connections).toHaveLength(0);
    expect(h.events).toHaveLength(0);
    expect(h.poller.snapshot().map((health) => health.state)).toEqual(["pending", "pending"]);
    expect(h.poller.polling).toBe(false);
  });

  it("probes every node on one connection each while a lease is alive", async () => {
    const h = harness();
    h.poller.setNodes([node("a"), node("b")]);
    h.poller.watch("screen", 5000);
    await until(() => (h.probes.get("a") ?? 0) >= 4 && (h.probes.get("b") ?? 0) >= 4);
    // one connection per node, reused by every probe
    expect(h.connections.map((c) => c.node).sort()).toEqual(["a", "b"]);
    expect(h.healthsOf("a").at(-1)).toMatchObject({ state: "healthy", dockerVersion: "27.5.1" });
    expect(h.poller.stats()).toMatchObject({ polling: true, openConnections: 2, watchers: 1 });
  });

  it("stops probing when the lease runs out, and closes the connections after the grace period", async () => {
    const h = harness({ idleCloseMs: 80 });
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 150);
    await until(() => (h.probes.get("a") ?? 0) >= 2);
    await until(() => !h.poller.polling, 1000);
    const probesAtPause = h.probes.get("a") ?? 0;
    // within the grace period the connection stays (a screen that comes back reuses it)
    expect(h.connections[0]!.isClosed).toBe(false);
    await sleep(150);
    expect(h.connections[0]!.isClosed).toBe(true);
    expect(h.poller.stats().openConnections).toBe(0);
    await sleep(100);
    expect(h.probes.get("a")).toBeLessThanOrEqual(probesAtPause + 1); // at most the one in flight
  });

  it("renewing the lease keeps polling; unwatch stops at once", async () => {
    const h = harness();
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 120);
    for (let i = 0; i < 5; i++) {
      await sleep(60);
      h.poller.watch("screen", 120);
    }
    expect(h.poller.polling).toBe(true);
    const before = h.probes.get("a") ?? 0;
    expect(before).toBeGreaterThanOrEqual(6);
    expect(h.poller.unwatch("screen")).toBe(false);
    expect(h.poller.polling).toBe(false);
    await sleep(100);
    expect(h.probes.get("a")).toBeLessThanOrEqual(before + 1);
  });

  it("keeps polling while any watcher holds a lease", async () => {
    const h = harness();
    h.poller.setNodes([node("a")]);
    h.poller.watch("tab1", 5000);
    h.poller.watch("tab2", 5000);
    expect(h.poller.unwatch("tab1")).toBe(true);
    expect(h.poller.polling).toBe(true);
    expect(h.poller.unwatch("tab2")).toBe(false);
  });

  it("holds at most maxWatchers leases (the one closest to expiry goes first)", () => {
    const h = harness({ maxWatchers: 3 });
    for (let i = 0; i < 10; i++) h.poller.watch(`w${i}`, 1000 + i);
    expect(h.poller.stats().watchers).toBe(3);
  });

  it("a watch after the grace period reconnects", async () => {
    const h = harness({ idleCloseMs: 10 });
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 5000);
    await until(() => (h.probes.get("a") ?? 0) >= 1);
    h.poller.unwatch("screen");
    await until(() => h.connections[0]!.isClosed);
    h.poller.watch("screen", 5000);
    await until(() => h.connections.length === 2 && (h.probes.get("a") ?? 0) >= 3);
    expect(h.connections[1]!.isClosed).toBe(false);
  });
});

describe("HealthPoller faults", () => {
  it("a hanging probe times out with a reason while the other nodes keep updating", async () => {
    const h = harness({
      probeTimeoutMs: 100,
      backoffInitialMs: 20,
      probeFor: async (name, count) => {
        if (name === "stuck") await new Promise(() => {}); // never answers
        return { state: "healthy", load: [count, 0, 0] };
      },
    });
    h.poller.setNodes([node("ok"), node("stuck")]);
    h.poller.watch("screen", 5000);
    await until(() => h.healthsOf("stuck").length >= 1);
    const stuck = h.healthsOf("stuck")[0]!;
    expect(stuck.state).toBe("unreachable");
    expect(stuck.error).toMatch(/no answer within 0.1 s/);
    expect(stuck.hint).toBeTruthy();
    // while "stuck" hung for 100 ms, "ok" was probed every 20 ms
    expect(h.healthsOf("ok").length).toBeGreaterThanOrEqual(3);
    // the hung connection was dropped: the next attempt opens a fresh one
    expect(h.connections.find((c) => c.node === "stuck")!.isClosed).toBe(true);
    await until(() => h.connections.filter((c) => c.node === "stuck").length >= 2);
  });

  it("backs off exponentially while a node cannot be reached, and says when it retries", async () => {
    const attempts: number[] = [];
    const h = harness({
      backoffInitialMs: 20,
      backoffMaxMs: 80,
      connect: async () => {
        attempts.push(Date.now());
        throw new Error("connect ECONNREFUSED");
      },
    });
    h.poller.setNodes([node("down")]);
    h.poller.watch("screen", 5000);
    await until(() => attempts.length >= 5, 2000);
    const retries = h.healthsOf("down").map((health) => health.retryInMs);
    // the fourth failure looks like the third (same error, same delay): not a change, not sent again
    expect(retries).toEqual([20, 40, 80]);
    expect(h.poller.snapshot()[0]!.retryInMs).toBe(80);
    const gaps = attempts.slice(1).map((time, i) => time - attempts[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(h.healthsOf("down")[0]).toMatchObject({ state: "unreachable", error: "connect ECONNREFUSED" });
  });

  it("a connection that times out is closed when it finally arrives", async () => {
    const late: FakeConnection[] = [];
    const h = harness({
      probeTimeoutMs: 50,
      backoffInitialMs: 1000,
      connect: async (n) => {
        await sleep(120);
        const connection = new FakeConnection(n.name);
        late.push(connection);
        return connection;
      },
    });
    h.poller.setNodes([node("slow")]);
    h.poller.watch("screen", 5000);
    await until(() => h.healthsOf("slow").length >= 1);
    expect(h.healthsOf("slow")[0]!.error).toMatch(/no SSH connection within 0.05 s/);
    await until(() => late.length === 1);
    await sleep(5);
    expect(late[0]!.isClosed).toBe(true);
  });

  it("reconnects at once after a lost connection and recovers", async () => {
    const h = harness();
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 5000);
    await until(() => (h.probes.get("a") ?? 0) >= 2);
    h.connections[0]!.close(); // the node went away and came back
    await until(() => h.connections.length === 2 && (h.probes.get("a") ?? 0) >= 4);
    expect(h.healthsOf("a").at(-1)!.state).toBe("healthy");
  });

  it("recovers after failures: healthy again, failures reset", async () => {
    let up = false;
    const h = harness({
      backoffInitialMs: 10,
      connect: async (n) => {
        if (!up) throw new Error("no route to host");
        return new FakeConnection(n.name);
      },
    });
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 5000);
    await until(() => h.healthsOf("a").length >= 2);
    up = true;
    await until(() => h.healthsOf("a").at(-1)?.state === "healthy", 2000);
    expect(h.healthsOf("a").at(-1)!.retryInMs).toBeUndefined();
  });
});

describe("HealthPoller events and state", () => {
  it("publishes a node only when its health changed, batched", async () => {
    const h = harness({
      batchMs: 30,
      probeFor: async () => ({ state: "healthy", dockerVersion: "27.5.1" }),
    });
    h.poller.setNodes([node("a"), node("b"), node("c")]);
    h.poller.watch("screen", 5000);
    await until(() => [...h.probes.values()].every((count) => count >= 5) && h.probes.size === 3);
    expect(h.events.flat()).toHaveLength(3); // the first answer of each; the rest changed nothing
    expect(h.events[0]!.map((health) => health.node).sort()).toEqual(["a", "b", "c"]);
  });

  it("removing a node closes its connection and forgets its health", async () => {
    const h = harness();
    h.poller.setNodes([node("a"), node("b")]);
    h.poller.watch("screen", 5000);
    await until(() => h.connections.length === 2);
    h.poller.setNodes([node("b")]);
    expect(h.connections.find((c) => c.node === "a")!.isClosed).toBe(true);
    expect(h.poller.snapshot().map((health) => health.node)).toEqual(["b"]);
    const probesOfA = h.probes.get("a");
    await sleep(80);
    expect(h.probes.get("a")).toBe(probesOfA);
  });

  it("a changed node definition gets a fresh connection", async () => {
    const h = harness();
    h.poller.setNodes([node("a")]);
    h.poller.watch("screen", 5000);
    await until(() => h.connections.length === 1);
    h.poller.setNodes([{ ...node("a"), port: 2222 }]);
    expect(h.connections[0]!.isClosed).toBe(true);
    await until(() => h.connections.length === 2);
    expect(h.poller.snapshot()[0]!.address).toBe("root@a.example:2222");
  });

  it("close() stops everything: connections closed, no more events", async () => {
    const h = harness();
    h.poller.setNodes([node("a"), node("b")]);
    h.poller.watch("screen", 5000);
    await until(() => h.events.length >= 2);
    await h.poller.close();
    const events = h.events.length;
    expect(h.connections.every((c) => c.isClosed)).toBe(true);
    await sleep(80);
    expect(h.events.length).toBe(events);
    expect(h.poller.stats()).toMatchObject({ polling: false, openConnections: 0, watchers: 0 });
  });
});
