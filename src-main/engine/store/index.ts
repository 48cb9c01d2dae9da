export {
  appendAudit,
  auditEntryFor,
  currentUser,
  formatAuditCsv,
  formatAuditJsonLines,
  insertAudit,
  listAudit,
} from "./audit.js";
export { DEFAULT_FLAG_WINDOW, flagAgainst, lowerIsBetter, MIN_FLAG_HISTORY } from "./flags.js";
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration, migrate, schemaVersion } from "./migrations.js";
export { defaultDataDir, defaultResultsDbPath, moveAside, RESULTS_DB_ENV } from "./paths.js";
export { escapeLabelValue, formatPrometheus, numericPerformance } from "./prometheus.js";
export {
  currentFlags,
  nodeComparison,
  performanceSeries,
  queryResultsPage,
  resultFacets,
} from "./resultsQueries.js";
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  type OpenOptions,
  type RecordRunInput,
  type ResultExtra,
  ResultsStore,
  translateSqliteError,
} from "./resultsStore.js";
export { compareRuns } from "./runComparison.js";
