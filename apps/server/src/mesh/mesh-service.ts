import { createSocket } from "node:dgram";
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Gateway } from "../gateway/gateway.js";
import { type IntervalJob, startIntervalJob } from "../jobs/interval-job.js";
import { openLighthouse } from "./lighthouse.js";
import { createMeshCoordinator, type MeshCoordinator } from "./mesh-coordinator.js";
import { recordMeshLinks } from "./mesh-links.js";
import { hasNebulaCert, nebulaCertTool } from "./nebula-cert.js";

/** A minimal structured logger. */
interface MeshLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The overlay service of one server: the coordinator the market uses, and its sweep. */
export interface MeshService {
  coordinator: MeshCoordinator;
  stop(): Promise<void>;
}

/** A free UDP port of this host (for IGNIS_MESH_PORT=0). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * Starts the cluster overlays when the configuration offers them (IGNIS_MESH `on`, or `auto` with nebula-cert
 * installed): the coordinator, link reports from workers, and a sweep that forgets ended clusters' overlays.
 * Returns undefined when overlays are off; IGNIS_MESH=on without nebula-cert is a startup error.
 */
export async function startMeshService(options: {
  db: Db;
  config: Config;
  gateway: Gateway;
  publicUrl: string | undefined;
  log: MeshLog;
  now?: () => number;
}): Promise<MeshService | undefined> {
  const { config, log } = options;
  if (config.mesh.mode === "off") return undefined;
  if (!(await hasNebulaCert())) {
    if (config.mesh.mode === "on") throw new Error("IGNIS_MESH=on but nebula-cert is not installed");
    log.info({}, "cluster overlays off: nebula-cert is not installed (Debian package nebula)");
    return undefined;
  }
  const now = options.now ?? Date.now;
  const tool = nebulaCertTool();
  const coordinator = createMeshCoordinator({
    db: options.db,
    tool,
    lighthouse: async () =>
      openLighthouse({
        dataDir: config.dataDir,
        port: config.mesh.port === 0 ? await freeUdpPort() : config.mesh.port,
        tool,
        log,
      }),
    lighthouseHost: config.mesh.host ?? (options.publicUrl ? new URL(options.publicUrl).hostname : null),
    now,
  });
  options.gateway.onMessage("mesh.links", async (session, message) => {
    await recordMeshLinks(options.db, session.deviceId, message, now());
  });
  const sweep: IntervalJob = startIntervalJob({
    name: "mesh.sweep",
    intervalMs: 2000,
    tick: () => coordinator.sweep(),
    log,
  });
  return {
    coordinator,
    async stop() {
      await sweep.stop();
      await coordinator.stop();
    },
  };
}
