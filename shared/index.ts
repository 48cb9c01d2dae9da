export * from "./errors.js";
export * from "./schemas/context.js";
export * from "./schemas/executionConfig.js";
export * from "./schemas/manifest.js";
export * from "./schemas/model.js";
export * from "./schemas/perf.js";
export * from "./schemas/summaries.js";
export * from "./schemas/validate.js";
