import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The file, inside the data dir, naming the server process that runs on it and where it listens. */
export const RUNNING_SERVER_FILE = "server.json";

/** A server running on a data dir: its pid and a URL that reaches it from this machine. */
export interface RunningServer {
  pid: number;
  url: string;
}

/** A URL this machine can call for a bound address (`http://0.0.0.0:8080` is reached at 127.0.0.1). */
export function localUrlOf(address: string): string {
  const url = new URL(address);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  if (url.hostname === "[::]") url.hostname = "[::1]";
  return url.origin;
}

/** Records that this process serves the data dir at `url`; returns the function that removes the record. */
export function recordRunningServer(dataDir: string, url: string): () => void {
  const path = join(dataDir, RUNNING_SERVER_FILE);
  writeFileSync(path, `${JSON.stringify({ pid: process.pid, url } satisfies RunningServer)}\n`, {
    mode: 0o600,
  });
  return () => {
    if (findRunningServer(dataDir)?.pid === process.pid) rmSync(path, { force: true });
  };
}

/** The server running on the data dir, or undefined when none is (a record left by a dead process is ignored). */
export function findRunningServer(dataDir: string): RunningServer | undefined {
  let found: RunningServer;
  try {
    found = JSON.parse(readFileSync(join(dataDir, RUNNING_SERVER_FILE), "utf8")) as RunningServer;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(found.pid) || typeof found.url !== "string") return undefined;
  try {
    process.kill(found.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return undefined;
  }
  return found;
}
