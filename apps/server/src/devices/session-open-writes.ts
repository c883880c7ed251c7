import { sql } from "kysely";
import type { Db } from "../db/database.js";
import type { GatewayLog } from "../gateway/session-hub.js";
import { type IpCountry, sharedIpCountry } from "../geo/ip-country.js";
import { normalizePeerAddress } from "./session-address.js";
import type { OutdatedWorker } from "./worker-version.js";

/** What a new session records on its device's row, and who waits for it. */
export interface SessionOpenWrite {
  deviceId: string;
  /** The peer address of the session (cluster rendezvous and group challenges read it). */
  ip: string;
  workerVersion: string | null;
  outdated: OutdatedWorker | null;
}

interface Queued extends SessionOpenWrite {
  done: () => void;
}

/** Rows per statement: a storm's batch is split so no statement carries an unbounded parameter list. */
const MAX_BATCH = 1000;

/**
 * The writes of session opens: `online` (from pending or offline, as setDeviceStatus moves it), the session's
 * address and the worker's release. One batch is in flight at a time and the next takes everything that queued
 * meanwhile, so a single open is written at once and a reconnect storm of thousands costs one statement per
 * batch instead of three round trips per device. The hello waits for its batch, so a device whose worker holds
 * a hello is online in the database. A failed batch is logged and let through: the uptime flush marks a
 * heartbeating device online again, and the next session writes its address and release again.
 */
export class SessionOpenWrites {
  private queue = new Map<string, Queued>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: GatewayLog,
    /** Locates a session's address to a country (the explorer's location); loaded on the first public address. */
    private readonly geo: IpCountry = sharedIpCountry(),
  ) {}

  /**
   * Queues the writes of a session that just opened; resolves once they are written (or failed and were
   * logged). A newer open of the same device still queued replaces them, and both resolve together.
   */
  write(write: SessionOpenWrite): Promise<void> {
    return new Promise((resolve) => {
      const earlier = this.queue.get(write.deviceId);
      this.queue.delete(write.deviceId);
      this.queue.set(write.deviceId, {
        ...write,
        done: earlier
          ? () => {
              earlier.done();
              resolve();
            }
          : resolve,
      });
      this.running ??= this.drain();
    });
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
        await this.writeBatch(batch).catch((error: unknown) =>
          this.log.warn({ err: error, devices: batch.length }, "could not record session opens"),
        );
        for (const w of batch) w.done();
      }
    } finally {
      this.running = undefined;
    }
  }

  private async writeBatch(batch: SessionOpenWrite[]): Promise<void> {
    const at = new Date();
    const addresses = batch.map((w) => normalizePeerAddress(w.ip));
    const countries = await Promise.all(addresses.map((a) => this.geo.countryOf(a)));
    const rows = sql.join(
      batch.map(
        (w, i) =>
          sql`(${w.deviceId}::text, ${addresses[i]}::text, ${countries[i]}::text, ${w.workerVersion}::text, ${w.outdated?.since ?? null}::timestamptz, ${w.outdated?.earningUntil ?? null}::timestamptz)`,
      ),
    );
    // One statement: a pending or offline device goes online (with its last-seen time, and any old conflict
    // cleared, as setDeviceStatus moves it); every device gets the session's address and release. The right-hand
    // sides read the row as it was, so the status test is the same in every column.
    await sql`update devices as d
      set status = case when d.status in ('pending', 'offline') then 'online' else d.status end,
          last_seen_at = case when d.status in ('pending', 'offline') then ${at}::timestamptz else d.last_seen_at end,
          conflict_at = case when d.status in ('pending', 'offline') then null else d.conflict_at end,
          conflict_peers = case when d.status in ('pending', 'offline') then null else d.conflict_peers end,
          session_address = v.address, geo_country = v.country, worker_version = v.version,
          outdated_since = v.since, outdated_earning_until = v.until
      from (values ${rows}) as v (id, address, country, version, since, until)
      where d.id = v.id`.execute(this.db);
  }
}
