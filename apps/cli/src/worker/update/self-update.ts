import { readFile } from "node:fs/promises";
import { compareWorkerVersions } from "@ignis/protocol";
import {
  currentRelease,
  installRelease,
  pruneReleases,
  recordRunningRelease,
  switchCurrent,
} from "./release-install.js";
import { UpdateRefused, verifyReleasePackage } from "./release-verify.js";
import {
  readRunningWorker,
  type StartedWorker,
  startReleaseWorker,
  stopWorkerProcess,
  waitOnline,
} from "./worker-process.js";

/** A release to install: where its package is, and what the release key signed. */
export interface UpdateSource {
  version: string;
  /** A local path or an http(s) URL of the gzipped tarball. */
  package: string;
  /** The detached Ed25519 signature (base64url) over the release signing text. */
  signature: string;
  /** The SHA-256 the offer named, if any; checked before the signature. */
  sha256?: string | undefined;
}

/** How and where to update. */
export interface UpdateOptions {
  stateDir: string;
  /** The install root: `versions/<v>/` and the `current` link. */
  installDir: string;
  /** The trusted release key (raw Ed25519, base64url). */
  releaseKey: string;
  /** How long the new release has to come online before it is rolled back. */
  onlineWithinMs: number;
  /** The release running now, when nothing was installed in `installDir` yet. */
  runningRelease: string;
  /** How to run the release that runs now (node and the `ignis` script), recorded for rollbacks. */
  launcher: { node: string; script: string };
  log: (line: string) => void;
}

/** What an update did. */
export type UpdateOutcome =
  | { outcome: "switched"; from: string; to: string; restarted: boolean }
  | { outcome: "rolled_back"; from: string; to: string; reason: string };

/** Reads a package from a local path or an http(s) URL. */
export async function fetchPackage(location: string): Promise<Uint8Array> {
  try {
    if (/^https?:\/\//.test(location)) {
      const response = await fetch(location);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    }
    return new Uint8Array(await readFile(location));
  } catch (error) {
    throw new UpdateRefused("fetch_failed", `could not fetch ${location}: ${(error as Error).message}`);
  }
}

/**
 * Updates the worker of a state folder: fetch, verify the signature (nothing is written before it verifies),
 * install beside the running release, stop the running worker (it sends a last heartbeat), switch `current` and
 * start the new release; if it does not come online as the new version within the bound, stop it, switch
 * back and start the previous release again. Throws UpdateRefused when the package is refused.
 */
export async function updateWorker(source: UpdateSource, options: UpdateOptions): Promise<UpdateOutcome> {
  const { stateDir, installDir: root, log } = options;
  const bytes = await fetchPackage(source.package);
  const sha256 = verifyReleasePackage(bytes, source, options.releaseKey);
  const running = readRunningWorker(stateDir);
  const from = currentRelease(root) ?? running?.version ?? options.runningRelease;
  if (compareWorkerVersions(source.version, from) <= 0) {
    throw new UpdateRefused("not_newer", `release ${source.version} is not newer than the running ${from}`);
  }
  log(`release ${source.version} (sha256 ${sha256}) verified against release key ${options.releaseKey}`);
  if (currentRelease(root) === undefined) {
    recordRunningRelease(root, from, options.launcher);
    switchCurrent(root, from);
  }
  await installRelease(root, source.version, bytes);
  log(`installed ${source.version} beside ${from} in ${root}`);
  if (!running) {
    switchCurrent(root, source.version);
    pruneOlder(root, [source.version, from], log);
    log(`no worker is running: ${source.version} is current and starts with the next \`ignis worker run\``);
    return { outcome: "switched", from, to: source.version, restarted: false };
  }

  await stopWorkerProcess(running.pid);
  switchCurrent(root, source.version);
  const started = startReleaseWorker(root, source.version, stateDir, running.args);
  log(
    `started ${source.version} (pid ${started.pid}); waiting up to ${options.onlineWithinMs} ms for it to come online`,
  );
  if (await waitOnline(stateDir, started, source.version, options.onlineWithinMs)) {
    pruneOlder(root, [source.version, from], log);
    log(`${source.version} is online; update done`);
    return { outcome: "switched", from, to: source.version, restarted: true };
  }

  const reason = `release ${source.version} did not come online within ${options.onlineWithinMs} ms`;
  log(`${reason}: rolling back to ${from}`);
  await stopStarted(started);
  switchCurrent(root, from);
  const previous = startReleaseWorker(root, from, stateDir, running.args);
  if (await waitOnline(stateDir, previous, from, options.onlineWithinMs)) log(`${from} is online again`);
  else log(`${from} did not come online either within ${options.onlineWithinMs} ms; see worker.log`);
  return { outcome: "rolled_back", from, to: source.version, reason };
}

/** Keeps the new release and the one a rollback returns to; older releases only take disk space. */
function pruneOlder(root: string, keep: string[], log: (line: string) => void): void {
  const removed = pruneReleases(root, keep);
  if (removed.length > 0) log(`removed older releases ${removed.join(", ")} (kept ${keep.join(" and ")})`);
}

async function stopStarted(worker: StartedWorker): Promise<void> {
  await Promise.race([worker.exited, stopWorkerProcess(worker.pid, 5_000)]);
}
