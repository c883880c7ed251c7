import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { normalizePeerAddress } from "../devices/session-address.js";
import type { OutdatedWorker } from "../devices/worker-version.js";
import type { GatewayLog } from "./session-hub.js";

/** What a new session records on its device's row. */
export interface SessionOpenWrite {
  deviceId: string;
  /** The peer address of the session (cluster rendezvous and group challenges read it). */
  ip: string;
  workerVersion: string | null;
  outdated: OutdatedWorker | null;
}

/** Rows per statement: a storm's batch is split so no statement carries an unbounded parameter list. */
const MAX_BATCH = 1000;

/**
 * The writes of session opens, behind the hello: `online` (from pending or offline, as setDeviceStatus moves
 * it), the session's address and the worker's release. One batch is in flight at a time and the next takes
 * everything that queued meanwhile, so a single open is written at once and a reconnect storm of thousands
 * costs two statements per batch instead of three round trips per device on the handshake path. A failed batch
 * is logged and dropped: the uptime flush marks a heartbeating device online again, and the next session
 * writes its address and release again.
 */
export class SessionOpenWrites {
  private queue = new Map<string, SessionOpenWrite>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: GatewayLog,
  ) {}

  /** Queues the writes of a session that just opened (a newer open of the same device replaces them). */
  enqueue(write: SessionOpenWrite): void {
    this.queue.delete(write.deviceId);
    this.queue.set(write.deviceId, write);
    this.running ??= this.drain();
  }

  /** Resolves once everything queued so far is written (or failed and was logged). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size > 0) {
        const batch = [...this.queue.values()].slice(0, MAX_BATCH);
        for (const w of batch) this.queue.delete(w.deviceId);
        await this.write(batch).catch((error: unknown) =>
          this.log.warn({ err: error, devices: batch.length }, "could not record session opens"),
        );
      }
    } finally {
      this.running = undefined;
    }
  }

  private async write(batch: SessionOpenWrite[]): Promise<void> {
    const at = new Date();
    await this.db
      .updateTable("devices")
      .set({ status: "online", last_seen_at: at, conflict_at: null, conflict_peers: null })
      .where(
        "id",
        "in",
        batch.map((w) => w.deviceId),
      )
      .where("status", "in", ["pending", "offline"])
      .execute();
    const rows = sql.join(
      batch.map(
        (w) =>
          sql`(${w.deviceId}::text, ${normalizePeerAddress(w.ip)}::text, ${w.workerVersion}::text, ${w.outdated?.since ?? null}::timestamptz, ${w.outdated?.earningUntil ?? null}::timestamptz)`,
      ),
    );
    await sql`update devices as d
      set session_address = v.address, worker_version = v.version, outdated_since = v.since,
          outdated_earning_until = v.until
      from (values ${rows}) as v (id, address, version, since, until)
      where d.id = v.id`.execute(this.db);
  }
}
