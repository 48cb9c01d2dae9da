import type { NodeHealth } from "../../../shared/contract/nodes.js";
import { toErrorInfo } from "../../../shared/errors.js";
import type { Node } from "../../../shared/schemas/nodes.js";

/**
 * Live node health for watchers that come and go (the Nodes screen): one SSH connection per node,
 * kept open between probes and reopened with exponential backoff when lost; each node is probed on
 * its own timer with its own timeout, so a node that hangs delays nobody else. Polling runs only
 * while some watcher holds a live lease; when the last lease ends the probes stop at once and the
 * connections are closed after a grace period (a screen switched away and back reuses them).
 * Memory is bounded by the node count and the watcher cap: only the latest health is kept.
 */

/** What the poller needs of a connection (NodeConnection has it). */
export interface PollConnection {
  readonly isClosed: boolean;
  close(): void;
}

/** What a probe measured, without the fields the poller fills in. */
export type ProbedHealth = Omit<NodeHealth, "node" | "address" | "checkedAt" | "retryInMs">;

export interface HealthPollerOptions<C extends PollConnection> {
  connect(node: Node): Promise<C>;
  probe(node: Node, connection: C): Promise<ProbedHealth>;
  /** Receives the healths that changed, batched (at most one entry per node per batch). */
  onHealth(healths: NodeHealth[]): void;
  /** Pause between the end of one probe of a node and the start of the next (default 5000). */
  intervalMs?: number;
  /** A probe (or a connection attempt) that takes longer fails with a timeout (default 10000). */
  probeTimeoutMs?: number;
  /** How long connections stay open after the last lease ended (default 15000). */
  idleCloseMs?: number;
  /** First reconnection delay after a failure; doubles per failure up to backoffMaxMs (default 1000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Window in which changed healths are gathered into one onHealth call (default 50). */
  batchMs?: number;
  /** Leases kept at most; the one closest to expiry goes first (default 64). */
  maxWatchers?: number;
}

export interface HealthPollerStats {
  polling: boolean;
  nodes: number;
  watchers: number;
  openConnections: number;
  probesInFlight: number;
}

class TimeoutError extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(what())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Reconnection delay after `failures` failures in a row: initial, 2x, 4x, ... up to max. */
export function backoffDelay(failures: number, initialMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
}

interface Worker<C> {
  node: Node;
  /** The node's definition as JSON: a changed definition gets a fresh worker. */
  key: string;
  connection: C | undefined;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  stopped: boolean;
}

const addressOf = (node: Node) => `${node.user}@${node.host}:${node.port}`;

/** A health's content without the time it was taken: equal signatures are not a change. */
function signature(health: NodeHealth): string {
  const { checkedAt: _checkedAt, ...rest } = health;
  return JSON.stringify(rest);
}

export class HealthPoller<C extends PollConnection> {
  private readonly workers = new Map<string, Worker<C>>();
  private readonly latest = new Map<string, NodeHealth>();
  private readonly leases = new Map<string, number>();
  private readonly batch = new Map<string, NodeHealth>();
  private batchTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  readonly intervalMs: number;
  private readonly probeTimeoutMs: number;
  private readonly idleCloseMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly batchMs: number;
  private readonly maxWatchers: number;

  constructor(private readonly options: HealthPollerOptions<C>) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 10_000;
    this.idleCloseMs = options.idleCloseMs ?? 15_000;
    this.backoffInitialMs = options.backoffInitialMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.batchMs = options.batchMs ?? 50;
    this.maxWatchers = options.maxWatchers ?? 64;
  }

  get polling(): boolean {
    return this.running;
  }

  stats(): HealthPollerStats {
    const workers = [...this.workers.values()];
    return {
      polling: this.running,
      nodes: workers.length,
      watchers: this.leases.size,
      openConnections: workers.filter((w) => w.connection !== undefined && !w.connection.isClosed).length,
      probesInFlight: workers.filter((w) => w.busy).length,
    };
  }

  /** The nodes to watch, in display order. Removed or changed nodes lose their worker and connection. */
  setNodes(nodes: readonly Node[]): void {
    if (this.closed) return;
    const wanted = new Map(nodes.map((node) => [node.name, node]));
    for (const [name, worker] of this.workers) {
      const next = wanted.get(name);
      if (!next || JSON.stringify(next) !== worker.key) {
        this.stopWorker(worker);
        this.workers.delete(name);
        this.latest.delete(name);
        this.batch.delete(name);
      }
    }
    const ordered = new Map<string, Worker<C>>();
    for (const node of nodes) {
      let worker = this.workers.get(node.name);
      if (!worker) {
        worker = {
          node,
          key: JSON.stringify(node),
          connection: undefined,
          failures: 0,
          timer: undefined,
          busy: false,
          stopped: false,
        };
        this.latest.set(node.name, { node: node.name, address: addressOf(node), state: "pending" });
        if (this.running) this.schedule(worker, 0);
      }
      ordered.set(node.name, worker);
    }
    this.workers.clear();
    for (const [name, worker] of ordered) this.workers.set(name, worker);
  }

  /** The latest health of every node, in node order. */
  snapshot(): NodeHealth[] {
    return [...this.workers.keys()].map((name) => this.latest.get(name)!);
  }

  /** Takes or renews `watcher`'s lease; polling starts if it was paused. */
  watch(watcher: string, leaseMs: number): void {
    if (this.closed) return;
    this.pruneLeases();
    if (!this.leases.has(watcher) && this.leases.size >= this.maxWatchers) {
      const [soonest] = [...this.leases.entries()].sort((a, b) => a[1] - b[1]);
      if (soonest) this.leases.delete(soonest[0]);
    }
    this.leases.set(watcher, Date.now() + leaseMs);
    if (!this.running) this.resume();
    this.armLeaseTimer();
  }

  /** Ends `watcher`'s lease; answers whether any lease is still alive. */
  unwatch(watcher: string): boolean {
    this.leases.delete(watcher);
    this.checkLeases();
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.running = false;
    this.leases.clear();
    clearTimeout(this.leaseTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.batchTimer);
    this.batch.clear();
    for (const worker of this.workers.values()) this.stopWorker(worker);
  }

  // ---- leases ------------------------------------------------------------------------------

  private pruneLeases(): void {
    const now = Date.now();
    for (const [watcher, expiry] of this.leases) if (expiry <= now) this.leases.delete(watcher);
  }

  private armLeaseTimer(): void {
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    if (this.leases.size === 0) return;
    const soonest = Math.min(...this.leases.values());
    this.leaseTimer = setTimeout(() => this.checkLeases(), Math.max(0, soonest - Date.now()) + 5);
  }

  private checkLeases(): void {
    this.pruneLeases();
    if (this.leases.size === 0) {
      if (this.running) this.pause();
      clearTimeout(this.leaseTimer);
      this.leaseTimer = undefined;
    } else this.armLeaseTimer();
  }

  private resume(): void {
    this.running = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const worker of this.workers.values()) if (!worker.busy) this.schedule(worker, 0);
  }

  private pause(): void {
    this.running = false;
    for (const worker of this.workers.values()) {
      clearTimeout(worker.timer);
      worker.timer = undefined;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      for (const worker of this.workers.values()) this.dropConnection(worker);
    }, this.idleCloseMs);
  }

  /** Paused and past the grace period: nothing may stay connected. */
  private get idle(): boolean {
    return !this.running && this.idleTimer === undefined;
  }

  // ---- probing -----------------------------------------------------------------------------

  private schedule(worker: Worker<C>, delayMs: number): void {
    clearTimeout(worker.timer);
    worker.timer = setTimeout(() => {
      worker.timer = undefined;
      void this.tick(worker);
    }, delayMs);
  }

  private stopWorker(worker: Worker<C>): void {
    worker.stopped = true;
    clearTimeout(worker.timer);
    worker.timer = undefined;
    this.dropConnection(worker);
  }

  private dropConnection(worker: Worker<C>): void {
    worker.connection?.close();
    worker.connection = undefined;
  }

  private async connection(worker: Worker<C>): Promise<C> {
    if (worker.connection && !worker.connection.isClosed) return worker.connection;
    worker.connection = undefined;
    const attempt = this.options.connect(worker.node);
    try {
      const connection = await withTimeout(
        attempt,
        this.probeTimeoutMs,
        () =>
          `${worker.node.name}: no SSH connection within ${this.probeTimeoutMs / 1000} s (the node or the network hangs)`,
      );
      if (worker.stopped || this.idle) {
        connection.close();
        throw new Error(`${worker.node.name}: polling stopped`);
      }
      worker.connection = connection;
      return connection;
    } catch (error) {
      // a connection that arrives after its timeout is closed, never leaked
      if (error instanceof TimeoutError) attempt.then((late) => late.close()).catch(() => {});
      throw error;
    }
  }

  private async tick(worker: Worker<C>): Promise<void> {
    if (!this.running || worker.stopped || worker.busy) return;
    worker.busy = true;
    const { node } = worker;
    let health: NodeHealth;
    let nextDelay = this.intervalMs;
    let phase: "connect" | "probe" = "connect";
    try {
      const connection = await this.connection(worker);
      phase = "probe";
      const probed = await withTimeout(
        this.options.probe(node, connection),
        this.probeTimeoutMs,
        () =>
          `${node.name}: the health probe got no answer within ${this.probeTimeoutMs / 1000} s (the node, its sshd or its Docker daemon hangs)`,
      );
      worker.failures = 0;
      health = { node: node.name, address: addressOf(node), checkedAt: new Date().toISOString(), ...probed };
    } catch (error) {
      // a connection that failed a probe is suspect: the next attempt starts a fresh one
      this.dropConnection(worker);
      worker.failures++;
      nextDelay = Math.max(
        backoffDelay(worker.failures, this.backoffInitialMs, this.backoffMaxMs),
        // a failed probe on a live connection is retried at the normal pace at the earliest
        phase === "connect" ? 0 : this.intervalMs,
      );
      const info = toErrorInfo(error);
      const timedOut = error instanceof TimeoutError;
      health = {
        node: node.name,
        address: addressOf(node),
        state: "unreachable",
        checkedAt: new Date().toISOString(),
        error: info.message,
        hint:
          info.hint ??
          (timedOut
            ? "check that the node is up and not overloaded, and that nothing drops its traffic"
            : "check that the node is up and that sshd runs on it"),
        retryInMs: nextDelay,
      };
    } finally {
      worker.busy = false;
    }
    if (worker.stopped || this.closed) return;
    this.record(health);
    if (this.running) this.schedule(worker, nextDelay);
    else if (this.idle) this.dropConnection(worker);
  }

  private record(health: NodeHealth): void {
    const previous = this.latest.get(health.node);
    this.latest.set(health.node, health);
    if (previous && signature(previous) === signature(health)) return;
    this.batch.set(health.node, health);
    this.batchTimer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  private flush(): void {
    this.batchTimer = undefined;
    if (this.batch.size === 0) return;
    const healths = [...this.batch.values()];
    this.batch.clear();
    this.options.onHealth(healths);
  }
}
