import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/** The lock file, inside the data dir, that says which process has the embedded database open. */
export const PGLITE_LOCK_FILE = "pgdata.lock";

/** Another live process holds the embedded database of this data dir; the message says what to do instead. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the database in ${dataDir} is open in process ${pid} (a running ignis-server?); an embedded database ` +
        "admits one process: stop that process first, or use the running server (ignis-server invite reaches it " +
        "through its admin API; ignis admin ... commands work against it)",
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid holding the data dir's embedded database, or undefined when none does (a stale lock is no holder). */
export function dataDirHolder(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, PGLITE_LOCK_FILE), "utf8");
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/**
 * Takes the data dir's embedded-database lock for this process: an exclusive create of `pgdata.lock` holding the
 * pid. A lock left by a process that has died is taken over; one held by a live process (this one included: a
 * second open in one process would corrupt it just the same) throws DataDirInUseError. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, PGLITE_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (dataDirHolder(dataDir) === process.pid) rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = dataDirHolder(dataDir);
      if (holder !== undefined) throw new DataDirInUseError(dataDir, holder);
      // Stale: its process is gone. Remove it and try again (another starter may win the race; then we refuse).
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
