import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Job tables: one lease row per exclusive job name. */
export interface JobTables {
  job_leases: {
    name: string;
    /** Who holds the lease (replica id and a random suffix per run). */
    holder: string;
    acquired_at: Timestamp;
    expires_at: Timestamp;
  };
}
