import type { FastifyBaseLogger } from "fastify";
import type { JobStreams } from "../access/job-streams.js";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config.js";
import type { LinkMeasurer } from "../connectivity/link-measurer.js";
import type { Db, OpenDatabase } from "../db/database.js";
import type { PublicExplorer } from "../explorer/public-explorer.js";
import type { Gateway } from "../gateway/gateway.js";
import type { HandshakePacer } from "../gateway/handshake-pacer.js";
import type { EmbeddedOidc } from "../identity/embedded-oidc.js";
import type { TokenVerifier } from "../identity/token-verifier.js";
import type { Marketplace } from "../market/marketplace.js";
import type { Metrics } from "../observability/metrics.js";
import type { ProofService } from "../proof/proof-service.js";
import type { RewardService } from "../rewards/reward-service.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { SecurityMonitor } from "../security/security-monitor.js";
import type { StakeService } from "../stakes/stake-service.js";
import type { RolloutDriver } from "../upgrades/rollout-driver.js";
import type { UptimeTracker } from "../uptime/uptime-tracker.js";

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
  /** The replica bus (in-process by default). */
  bus: Bus;
  /** Up-minutes per device per epoch, buffered in memory and written in batches. */
  uptime: UptimeTracker;
  /** Worker sessions: send to devices and receive their messages, on any replica. */
  gateway: Gateway;
  /** Admission control for worker session openers on this replica (handshakes per second). */
  handshakes: HandshakePacer;
  /** Staged worker rollouts on this replica (admin routes tick it after a change). */
  rollouts: RolloutDriver;
  /** Reward seasons, epoch timing and the scheduled epoch close. */
  rewards: RewardService;
  /** Public explorer views (stats cached per process). */
  explorer: PublicExplorer;
  /** Security monitor: detection rules fed by the pipeline and the gateway, alerts and containment. */
  security: SecurityMonitor;
  /** The compute marketplace: clusters, job dispatch, metering and settlement. */
  market: Marketplace;
  /** Customers' sessions into their jobs (ssh, port-forward), relayed over the worker sessions. */
  streams: JobStreams;
  /** Proof of GPU: challenges of the devices connected here, their verdicts and the verification life cycle. */
  proof: ProofService;
  /** Measures devices' links over their sessions (connectivity tiers); a group round interrupts a measurement. */
  links: LinkMeasurer;
  /** Staking: settings, clock, unbonding releases, and slashes after fraud-class proof failures. */
  stakes: StakeService;
}
