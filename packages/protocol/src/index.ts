export * from "./common.js";
export * from "./errors.js";
export * from "./identity.js";
export * from "./problem.js";
export * from "./market.js";
export * from "./market-jobs.js";
