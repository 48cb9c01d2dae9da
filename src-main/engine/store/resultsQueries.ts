/**
 * The queries of the results screen over an open results database: pages of results (filtered,
 * sorted, counted) with regression flags, the filters' choices, performance over time per model,
 * and node against node for one run. Indexes for them come with migration 3.
 */
import type Database from "better-sqlite3";
import type {
  FlaggedResult,
  FlagInfo,
  NodeComparison,
  PerformanceSeries,
  ResultsPage,
  ResultsQuery,
  SeriesGroup,
} from "../../../shared/schemas/resultsViews.js";
import { resultsQuerySchema } from "../../../shared/schemas/resultsViews.js";
import { DEFAULT_FLAG_WINDOW, flagAgainst, lowerIsBetter } from "./flags.js";
import { numericPerformance } from "./prometheus.js";
import { type ResultDbRow, toResult } from "./resultsStore.js";

/** Where a result ran: its node, or for an imported perf.csv the machine_name in it. */
export const WHERE_SQL = `COALESCE(NULLIF("node", ''), "machine_name")`;

const SORT_SQL: Record<string, string> = {
  created_at: `"created_at"`,
  model: `"model"`,
  node: WHERE_SQL,
  status: `"status"`,
  performance: `CAST("performance" AS REAL)`,
  gpu_architecture: `"gpu_architecture"`,
  run_id: `"run_id"`,
};

type Filter = Pick<ResultsQuery, "model" | "tag" | "node" | "status" | "runId" | "since" | "until">;

function whereClause(filter: Filter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    params.push(value);
  };
  if (filter.model) add(`"model" = ?`, filter.model);
  if (filter.node) add(`${WHERE_SQL} = ?`, filter.node);
  if (filter.status) add(`"status" = ?`, filter.status);
  if (filter.runId) add(`"run_id" = ?`, filter.runId);
  if (filter.tag)
    add(`instr(',' || replace("tags", ' ', '') || ',', ',' || ? || ',') > 0`, filter.tag.trim());
  if (filter.since) add(`"created_at" >= ?`, filter.since);
  if (filter.until) add(`"created_at" <= ?`, filter.until);
  return { sql: where.length > 0 ? `WHERE ${where.join(" AND ")}` : "", params };
}

/** The group a result's history is judged in: its GPU architecture, else where it ran. */
function flagKey(row: { gpu_architecture: unknown; node: unknown; machine_name: unknown }): {
  arch: string;
  where: string;
} {
  const arch = String(row.gpu_architecture ?? "");
  return { arch, where: arch !== "" ? "" : String(row.node || row.machine_name || "") };
}

/**
 * The flag of one stored result against the last `window` SUCCESS results before it of the same
 * model on the same GPU architecture (else node).
 */
export function flagOf(db: Database.Database, row: ResultDbRow, window = DEFAULT_FLAG_WINDOW): FlagInfo {
  const metric = String(row.metric ?? "");
  const lowerBetter = lowerIsBetter(metric);
  const value = row.status === "SUCCESS" ? numericPerformance(String(row.performance ?? "")) : undefined;
  if (value === undefined) return flagAgainst(undefined, [], lowerBetter);
  const key = flagKey(row as never);
  const sameWhere = key.arch === "" ? ` AND ${WHERE_SQL} = @where` : "";
  const history = db
    .prepare(
      `SELECT "performance" FROM results
       WHERE "model" = @model AND "gpu_architecture" = @arch${sameWhere} AND "status" = 'SUCCESS'
         AND ("created_at", "id") < (@createdAt, @id)
       ORDER BY "created_at" DESC, "id" DESC LIMIT @window`,
    )
    .all({
      model: row.model,
      arch: key.arch,
      where: key.where,
      createdAt: row.created_at,
      id: row.id,
      window,
    }) as {
    performance: string;
  }[];
  const values = history
    .map((each) => numericPerformance(each.performance))
    .filter((each) => each !== undefined);
  return flagAgainst(value, values, lowerBetter);
}

function flagged(db: Database.Database, row: ResultDbRow): FlaggedResult {
  return { ...toResult(row), where: String(row.node || row.machine_name || ""), flag: flagOf(db, row) };
}

/** One page of the results matching the filters, sorted, with the total count and each row's flag. */
export function queryResultsPage(db: Database.Database, query: ResultsQuery): ResultsPage {
  const q = resultsQuerySchema.parse(query);
  const { sql, params } = whereClause(q);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM results ${sql}`).get(...params) as { n: number }).n;
  const direction = q.direction === "asc" ? "ASC" : "DESC";
  const rows = db
    .prepare(
      `SELECT * FROM results ${sql} ORDER BY ${SORT_SQL[q.sort]} ${direction}, "id" ${direction} LIMIT ? OFFSET ?`,
    )
    .all(...params, q.limit, q.offset) as ResultDbRow[];
  return { total, offset: q.offset, results: rows.map((row) => flagged(db, row)) };
}

/**
 * The latest SUCCESS result of every model on every GPU architecture (else node) that is flagged.
 * Walks the groups through the (model, gpu_architecture, created_at, id) index: one short lookup
 * per group instead of a scan of every result.
 */
export function currentFlags(db: Database.Database, filter: { model?: string } = {}): FlaggedResult[] {
  const groups = db
    .prepare(
      `SELECT DISTINCT "model", "gpu_architecture" FROM results ${filter.model ? `WHERE "model" = ?` : ""}`,
    )
    .all(...(filter.model ? [filter.model] : [])) as { model: string; gpu_architecture: string }[];
  const latestOfArch = db.prepare(
    `SELECT * FROM results WHERE "model" = ? AND "gpu_architecture" = ? AND "status" = 'SUCCESS'
     ORDER BY "created_at" DESC, "id" DESC LIMIT 1`,
  );
  const placesOf = db.prepare(
    `SELECT DISTINCT ${WHERE_SQL} AS "where" FROM results WHERE "model" = ? AND "gpu_architecture" = ''`,
  );
  const latestOfPlace = db.prepare(
    `SELECT * FROM results WHERE "model" = ? AND "gpu_architecture" = '' AND ${WHERE_SQL} = ? AND "status" = 'SUCCESS'
     ORDER BY "created_at" DESC, "id" DESC LIMIT 1`,
  );
  const latest: ResultDbRow[] = [];
  for (const group of groups) {
    if (group.gpu_architecture !== "") {
      const row = latestOfArch.get(group.model, group.gpu_architecture) as ResultDbRow | undefined;
      if (row) latest.push(row);
      continue;
    }
    for (const { where } of placesOf.all(group.model) as { where: string }[]) {
      const row = latestOfPlace.get(group.model, where) as ResultDbRow | undefined;
      if (row) latest.push(row);
    }
  }
  return latest
    .map((row) => flagged(db, row))
    .filter((each) => each.flag.flag !== null)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id - a.id));
}

/** The distinct values the filters offer. */
export function resultFacets(db: Database.Database): {
  models: string[];
  nodes: string[];
  tags: string[];
  gpuArchitectures: string[];
} {
  const column = (sql: string) =>
    (db.prepare(sql).pluck().all() as unknown[]).map(String).filter((v) => v !== "");
  const tags = new Set<string>();
  for (const cell of column(`SELECT DISTINCT "tags" FROM results`)) {
    for (const tag of cell.split(",")) if (tag.trim() !== "") tags.add(tag.trim());
  }
  return {
    models: column(`SELECT DISTINCT "model" FROM results ORDER BY "model"`),
    nodes: column(`SELECT DISTINCT ${WHERE_SQL} AS w FROM results ORDER BY w`),
    tags: [...tags].sort(),
    gpuArchitectures: column(`SELECT DISTINCT "gpu_architecture" FROM results ORDER BY "gpu_architecture"`),
  };
}

interface SeriesRow {
  id: number;
  run_id: string;
  created_at: string;
  performance: string;
  metric: string;
  status: string;
  gpu_architecture: string;
  node: string | null;
  machine_name: string;
}

/** At most this many points per line: more than a chart can show; flagged points are always kept. */
export const MAX_SERIES_POINTS = 1000;

/**
 * Performance over time of one model: one line per node or per GPU architecture, SUCCESS results
 * with a numeric performance, oldest first, each point with its regression flag (judged over the
 * model's whole history, whatever the time range shown).
 */
export function performanceSeries(
  db: Database.Database,
  options: { model: string; groupBy: SeriesGroup; since?: string; until?: string; window?: number },
): PerformanceSeries {
  const rows = db
    .prepare(
      `SELECT "id", "run_id", "created_at", "performance", "metric", "status", "gpu_architecture", "node", "machine_name"
       FROM results WHERE "model" = ? AND "status" = 'SUCCESS' ORDER BY "created_at", "id"`,
    )
    .all(options.model) as SeriesRow[];
  const window = options.window ?? DEFAULT_FLAG_WINDOW;
  const metric = rows.at(-1)?.metric ?? "";
  const lowerBetter = lowerIsBetter(metric);
  const histories = new Map<string, number[]>();
  const lines = new Map<string, PerformanceSeries["series"][number]["points"]>();
  for (const row of rows) {
    const value = numericPerformance(row.performance);
    if (value === undefined) continue;
    const key = flagKey(row);
    const historyKey = `${key.arch}\u0000${key.where}`;
    const history = histories.get(historyKey) ?? [];
    histories.set(historyKey, history);
    const flag = flagAgainst(value, history.slice(-window), lowerBetter).flag;
    history.push(value);
    if (history.length > window * 4) history.splice(0, history.length - window);
    if (
      (options.since && row.created_at < options.since) ||
      (options.until && row.created_at > options.until)
    )
      continue;
    const where = row.node || row.machine_name || "(unknown)";
    const name = options.groupBy === "node" ? where : row.gpu_architecture || "(unknown)";
    const points = lines.get(name) ?? [];
    lines.set(name, points);
    points.push({ resultId: row.id, runId: row.run_id, at: row.created_at, value, flag });
  }
  return {
    model: options.model,
    metric,
    lowerIsBetter: lowerBetter,
    groupBy: options.groupBy,
    series: [...lines]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, points]) => ({ name, points: thin(points, MAX_SERIES_POINTS) })),
  };
}

/** Every k-th point, the flagged ones and the last, so a long line stays drawable. */
function thin<T extends { flag: unknown }>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  return points.filter(
    (point, index) =>
      point.flag !== null ||
      index === points.length - 1 ||
      Math.floor(index / step) !== Math.floor((index - 1) / step),
  );
}

/** One run's results, node against node: the mean numeric SUCCESS performance of each model on each node. */
export function nodeComparison(db: Database.Database, runId: string): NodeComparison {
  const rows = db
    .prepare(
      `SELECT "model", "metric", ${WHERE_SQL} AS "where", "performance" FROM results
       WHERE "run_id" = ? AND "status" = 'SUCCESS' ORDER BY "model", "id"`,
    )
    .all(runId) as { model: string; metric: string; where: string; performance: string }[];
  const models = new Map<string, { metric: string; sums: Map<string, { sum: number; count: number }> }>();
  const nodes = new Set<string>();
  for (const row of rows) {
    const value = numericPerformance(row.performance);
    if (value === undefined) continue;
    const node = row.where || "(unknown)";
    nodes.add(node);
    const entry = models.get(row.model) ?? { metric: row.metric, sums: new Map() };
    models.set(row.model, entry);
    const cell = entry.sums.get(node) ?? { sum: 0, count: 0 };
    entry.sums.set(node, { sum: cell.sum + value, count: cell.count + 1 });
  }
  return {
    runId,
    nodes: [...nodes].sort(),
    models: [...models].map(([model, { metric, sums }]) => ({
      model,
      metric,
      values: [...sums].map(([node, { sum, count }]) => ({ node, value: sum / count })),
    })),
  };
}
