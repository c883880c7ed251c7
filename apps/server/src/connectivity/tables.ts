import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Connectivity tables: the latest measured link of each device (written only by link-store.ts). */
export interface ConnectivityTables {
  device_links: {
    device_id: string;
    /** Fastest round trip of the server's probe echoes, milliseconds. */
    rtt_ms: number;
    /** Download throughput of the server's probe transfer, megabits per second. */
    mbps: number;
    tier: number;
    measured_at: Timestamp;
  };
}
