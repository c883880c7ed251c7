import type { ColumnType } from "kysely";

type BigIntColumn = ColumnType<string, string | bigint | number, string | bigint | number>;

/** Uptime table: one row per device per epoch, minute slots as a bitmask. */
export interface UptimeTables {
  uptime: {
    device_id: string;
    epoch: BigIntColumn;
    /** Bit i set: minute slot i of the epoch had a heartbeat over an authenticated session. */
    minute_mask: BigIntColumn;
    up_minutes: number;
    /** Bits credited by a grace window rather than measured. */
    credited_mask: ColumnType<string, string | bigint | number | undefined, string | bigint | number>;
  };
}
