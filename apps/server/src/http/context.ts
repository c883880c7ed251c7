import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config.js";
import type { Db, OpenDatabase } from "../db/database.js";
import type { PublicExplorer } from "../explorer/public-explorer.js";
import type { EmbeddedOidc } from "../identity/embedded-oidc.js";
import type { TokenVerifier } from "../identity/token-verifier.js";
import type { Metrics } from "../observability/metrics.js";
import type { RateLimits } from "../security/rate-limits.js";

/** Everything the HTTP layer needs, assembled once by the composition root (main.ts). */
export interface AppContext {
  config: Config;
  db: Db;
  database: OpenDatabase;
  verifier: TokenVerifier;
  metrics: Metrics;
  rateLimits: RateLimits;
  oidc: EmbeddedOidc | undefined;
  /** The public origin clients use to reach this server (for invite links and worker signatures). */
  publicUrl: string;
  log: FastifyBaseLogger;
  /** Public explorer views (stats cached per process). */
  explorer: PublicExplorer;
}
