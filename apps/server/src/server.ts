import type { Server } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { createJobStreams } from "./access/job-streams.js";
import type { Bus } from "./bus/bus.js";
import { createInProcessBus } from "./bus/in-process-bus.js";
import { connectNatsBus } from "./bus/nats-bus.js";
import { startChainPublisher } from "./chain/chain-publisher.js";
import type { Config } from "./config.js";
import { startLinkMeasurer } from "./connectivity/link-measurer.js";
import { type Db, type OpenDatabase, openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { createPublicExplorer } from "./explorer/public-explorer.js";
import { watchAdmissionSettled } from "./gateway/admission-settled.js";
import { createGateway } from "./gateway/gateway.js";
import {
  ADMISSION_MAX_WAIT_SECONDS,
  ADMISSION_QUEUE_SECONDS,
  createHandshakePacer,
} from "./gateway/handshake-pacer.js";
import { workerOrigins } from "./gateway/worker-origins.js";
import { type App, buildApp } from "./http/app.js";
import type { AppContext } from "./http/context.js";
import { type EarlyListener, LISTEN_BACKLOG } from "./http/early-listener.js";
import type { RouteTable } from "./http/route-table.js";
import { ensureBootstrapAdmin } from "./identity/bootstrap-admin.js";
import { createEmbeddedOidc } from "./identity/oidc/provider.js";
import { createTokenVerifier, discoveredJwks, type TokenVerifier } from "./identity/token-verifier.js";
import { LOCAL_ISSUER } from "./identity/users.js";
import { createMarketplace } from "./market/marketplace.js";
import { profilePriceBook } from "./market/profile-prices.js";
import { startMeshService } from "./mesh/mesh-service.js";
import { createMetrics } from "./observability/metrics.js";
import { startMetricsServer } from "./observability/metrics-server.js";
import { createProofService } from "./proof/proof-service.js";
import { RESTART_WINDOW_MAX_MS, recordRestartWindow, restartsLiveNetwork } from "./rewards/restart-window.js";
import { createRewardService } from "./rewards/reward-service.js";
import { appendAudit } from "./security/audit-log.js";
import { createRateLimits, type RateLimits } from "./security/rate-limits.js";
import { createSecurityMonitor, type SecurityMonitor } from "./security/security-monitor.js";
import { chooseRateLimitStore, openRateLimitStore } from "./security/shared-rate-limits.js";
import { createStakeService } from "./stakes/stake-service.js";
import { createRolloutDriver } from "./upgrades/rollout-driver.js";
import { createUptimeTracker } from "./uptime/uptime-tracker.js";
import { VERSION } from "./version.js";

/** The package version reported in build info (kept in version.ts, which routes import too). */
export { VERSION };

/** A running control plane: its app, its context and how to stop it cleanly. */
export interface IgnisServer {
  app: App;
  ctx: AppContext;
  /** Every registered route with its access metadata (read by the authorization matrix and privacy crawl). */
  routeTable: RouteTable;
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<string>;
  /** Graceful shutdown: stop accepting, drain connections, flush buffers, close the database. */
  close(): Promise<void>;
}

/** Test and embedding seams: an already-open database, a token verifier for a stand-in issuer. */
export interface ServerOverrides {
  database?: OpenDatabase;
  verifier?: TokenVerifier;
  rateLimits?: RateLimits;
  logger?: FastifyBaseLogger;
  /** A bus shared by several servers in one process, so they act as replicas (tests). */
  bus?: Bus;
  /** Replaces the security monitor (tests that tune thresholds or inject a webhook transport). */
  security?: (deps: { db: Db; rateLimits: RateLimits; log: FastifyBaseLogger }) => SecurityMonitor;
  /**
   * A listener already bound to the configured port that answered 503 `starting` while this server was built
   * (http/early-listener.ts); `listen()` takes its socket over instead of binding the port again, and the worker
   * upgrades it held.
   */
  early?: EarlyListener;
  /** The gateway's clock (tests move it on instead of sleeping through key overlaps and deadlines). */
  gatewayClock?: () => number;
  /** The clock of stake writes: unbonding times and their release (tests move it on). */
  stakeClock?: () => number;
}

/** A restarted fleet is back once no opener has been refused for this long. */
const ADMISSION_QUIET_MS = 10_000;

const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "*.key",
  "*.password",
  "*.token",
  "*.code",
];

/** Assembles the control plane from a config: the composition root shared by main.ts and tests. */
export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<IgnisServer> {
  const startedAtMs = Date.now();
  const logger =
    overrides.logger ??
    (pino({
      level: config.logLevel,
      redact: { paths: REDACT, censor: "[redacted]" },
    }) as unknown as FastifyBaseLogger);
  const database =
    overrides.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.dbPoolSize,
    }));
  await migrateToLatest(database.db);
  const written = await ensureBootstrapAdmin(database.db, config.dataDir);
  if (written) logger.info({ path: written }, "bootstrap admin API key written; it is shown nowhere else");

  const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const oidc = config.oidc.embedded
    ? await createEmbeddedOidc({ db: database.db, config, publicUrl, log: logger })
    : undefined;
  const verifier =
    overrides.verifier ??
    createTokenVerifier({
      issuer: oidc?.issuer ?? config.oidc.issuer!,
      audience: config.oidc.audience,
      keys: oidc?.keys ?? discoveredJwks(config.oidc.issuer!),
      ...(oidc ? { accountIssuer: LOCAL_ISSUER } : {}),
    });
  const rateLimitStore = overrides.rateLimits
    ? undefined
    : await openRateLimitStore(chooseRateLimitStore(config), config, database.db);
  const rateLimits =
    overrides.rateLimits ??
    createRateLimits({ enabled: config.rateLimits, makeLimiter: rateLimitStore!.makeLimiter });
  const metrics = createMetrics(VERSION, config.replicaId, database.poolStats);
  const bus =
    overrides.bus ??
    (config.natsUrl
      ? await connectNatsBus({ url: config.natsUrl, name: config.replicaId, log: logger })
      : createInProcessBus());
  const security =
    overrides.security?.({ db: database.db, rateLimits, log: logger }) ??
    createSecurityMonitor({
      db: database.db,
      rateLimits,
      log: logger,
      alertsCounter: metrics.alerts,
      webhook: config.alertWebhook,
      containment: config.securityContainment,
      peers: { bus, replicaId: config.replicaId },
    });
  const uptime = createUptimeTracker({
    db: database.db,
    epochSeconds: config.epochSeconds,
    flushSeconds: config.worker.uptimeFlushSeconds,
    onlineWindowSeconds: 2 * config.heartbeatSeconds,
    log: logger,
  });
  const gateway = createGateway({
    db: database.db,
    bus,
    uptime,
    log: logger,
    metrics,
    rateLimits,
    replicaId: config.replicaId,
    heartbeatSeconds: config.heartbeatSeconds,
    keyOverlapSeconds: config.worker.keyOverlapSeconds,
    keyMaxAgeSeconds: config.worker.keyMaxAgeSeconds,
    workerVersions: {
      minVersion: config.worker.minWorkerVersion,
      graceSeconds: config.worker.outdatedGraceSeconds,
    },
    flushSeconds: config.worker.uptimeFlushSeconds,
    origins: workerOrigins(config.publicUrl, config.port),
    ...(overrides.gatewayClock ? { now: overrides.gatewayClock } : {}),
    onRefusedHandshake: (attempt) =>
      void security.reportUnknownDeviceHandshake(attempt).catch(() => undefined),
    onDeviceIncident: (incident) =>
      void security
        .reportDeviceIncident(incident)
        .catch((error: unknown) => logger.warn({ err: error, incident }, "device incident report failed")),
  });
  security.setDeviceDisconnector((deviceId, reason) => gateway.disconnect(deviceId, reason));
  gateway.onHardwareChanged(
    (deviceId, change) =>
      void security
        // A claim alone never quarantines: the proof service re-verifies the device, and failed proofs do.
        .reportHardwareChange(deviceId, change.before, change.after, {
          ip: change.ip,
          keyId: change.keyId,
          contain: false,
        })
        .catch((error: unknown) => logger.warn({ err: error, deviceId }, "hardware-change report failed")),
  );
  const stakes = createStakeService({
    db: database.db,
    settings: config.stakes,
    log: logger,
    ...(overrides.stakeClock ? { now: overrides.stakeClock } : {}),
  });
  const proof = createProofService({
    db: database.db,
    gateway,
    bus,
    rateLimits,
    log: logger,
    replicaId: config.replicaId,
    challengeMeanSeconds: config.challengeMeanSeconds,
    retryDelaySeconds: config.challengeRetrySeconds,
    verdicts: metrics.proofVerdicts,
    afterVerdict: (challengeId) => stakes.afterVerdict(challengeId),
    links: {
      measuring: (deviceId) => links.measuring(deviceId),
      interrupt: (deviceId) => links.interrupt(deviceId),
    },
    absenceSeconds: config.challengeAbsenceSeconds,
  });
  const rootPublisher = config.chain.contract ? startChainPublisher(config, database.db, logger) : undefined;
  const rewards = await createRewardService({
    db: database.db,
    config,
    log: logger,
    observeCloseSeconds: (seconds) => metrics.epochClose.observe(seconds),
    chain:
      rootPublisher && config.chain.contract
        ? { contract: config.chain.contract, onRootsQueued: () => rootPublisher.kick() }
        : undefined,
  });
  const mesh = await startMeshService({
    db: database.db,
    config,
    gateway,
    publicUrl: config.publicUrl,
    log: logger,
  });
  const links = startLinkMeasurer({
    db: database.db,
    gateway,
    log: logger,
    challenging: (deviceId) => proof.challenging(deviceId),
    audit: (entry) =>
      void appendAudit(database.db, entry).catch((error: unknown) =>
        logger.warn({ err: error, action: entry.action }, "audit append failed"),
      ),
  });
  const rollouts = createRolloutDriver({
    db: database.db,
    gateway,
    log: logger,
    tickSeconds: config.worker.rolloutTickSeconds,
  });
  const market = createMarketplace({
    db: database.db,
    config,
    gateway,
    prices: profilePriceBook(),
    log: logger,
    mesh: mesh?.coordinator,
    storedThrough: () => uptime.storedThroughMs(),
  });
  const streams = createJobStreams({
    gateway,
    bus,
    log: logger,
    audit: (entry) =>
      void appendAudit(database.db, entry).catch((error: unknown) =>
        logger.warn({ err: error, action: entry.action }, "audit append failed"),
      ),
    maxStreamsPerCluster: config.access.maxStreamsPerCluster,
    idleSeconds: config.access.idleSeconds,
  });
  const liveAtStart = await restartsLiveNetwork(database.db, startedAtMs);
  const handshakes = createHandshakePacer(
    {
      perSecond: config.worker.handshakesPerSecond,
      maxWaitSeconds: ADMISSION_MAX_WAIT_SECONDS,
      queueSeconds: ADMISSION_QUEUE_SECONDS,
    },
    Date.now(),
  );
  const ctx: AppContext = {
    config,
    handshakes,
    db: database.db,
    database,
    verifier,
    metrics,
    rateLimits,
    security,
    oidc,
    publicUrl,
    log: logger,
    bus,
    uptime,
    gateway,
    rewards,
    market,
    proof,
    links,
    stakes,
    streams,
    rollouts,
    explorer: createPublicExplorer({
      db: database.db,
      epochSeconds: config.epochSeconds,
      onError: (error) => logger.warn({ err: error }, "explorer stats refresh failed"),
    }),
  };
  const routeTable: RouteTable = [];
  const app = await buildApp(ctx, logger, routeTable);
  await app.ready();
  uptime.start();
  await gateway.start();
  await proof.start();
  market.start();
  rollouts.start();
  stakes.start();

  let closed = false;
  let metricsServer: Server | undefined;
  let stopAdmissionWatch: (() => void) | undefined;
  return {
    app,
    ctx,
    routeTable,
    async listen() {
      // Taking over the early listener's socket leaves no moment in which the port is closed: connections
      // accepted from here on reach the app, and the few that were answered 503 come back after Retry-After.
      const address = overrides.early
        ? await app.listen({
            // net.Server#listen(options) takes a bound handle as `options.handle` (a server's own `_handle`).
            handle: (overrides.early.server as unknown as { _handle: unknown })._handle,
            host: config.host,
          } as { host: string })
        : await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
      // The worker upgrades the early listener held while this server started are answered now, in turn.
      overrides.early?.handOver(app.server);
      rewards.start();
      // The devices that waited their turn after this restart keep those minutes (rewards/restart-window.ts).
      if (liveAtStart)
        stopAdmissionWatch = watchAdmissionSettled({
          startedAtMs,
          readyAtMs: Date.now(),
          now: Date.now,
          refused: () => handshakes.stats().refused,
          quietMs: ADMISSION_QUIET_MS,
          maxMs: RESTART_WINDOW_MAX_MS,
          everyMs: 1000,
          settled: (settledAtMs) =>
            void recordRestartWindow(database.db, {
              startedAtMs,
              settledAtMs,
              epochSeconds: config.epochSeconds,
            })
              .then((id) => {
                if (id)
                  logger.info(
                    { windowId: id, settledAtMs },
                    "restart window recorded: waiting devices keep their minutes",
                  );
              })
              .catch((error: unknown) => logger.warn({ err: error }, "restart window not recorded")),
        });
      if (config.metricsPort !== undefined) {
        metricsServer = await startMetricsServer(ctx.metrics.registry, config.metricsPort, config.host);
      }
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopAdmissionWatch?.();
      metricsServer?.close();
      await rollouts.stop();
      stakes.stop();
      await market.stop();
      await mesh?.stop();
      links.stop();
      // Challenges in flight are cancelled before sessions end, so a restart never fails a device.
      await proof.stop();
      streams.close();
      // Sessions end first (workers reconnect elsewhere), then the last up-minutes are written.
      await gateway.close();
      await app.close();
      await rewards.stop();
      await rootPublisher?.stop();
      await uptime.stop();
      // The monitor sends its last batch of shared signals before the bus goes.
      await security.close();
      if (!overrides.bus) await bus.close();
      await rateLimitStore?.close();
      if (!overrides.database) await database.close();
    },
  };
}
