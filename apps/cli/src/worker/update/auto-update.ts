import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import type { WorkerUpdateAvailableMessage } from "@ignis/protocol";
import { readUpdateSettings } from "./release-key.js";

/**
 * Automatic mode (`ignis worker update --auto`): when the server offers a release in a staged rollout, the
 * running worker starts `ignis worker update` for it as a separate process (it must outlive this worker, which it
 * stops and replaces), at most once per release. The signature check, install and rollback are the updater's.
 */
export function createAutoUpdate(options: {
  stateDir: string;
  /** The server the worker talks to; the offer's package path is resolved against it. */
  server: () => string;
  /** How to run `ignis` (node and its script). */
  launcher: { node: string; script: string };
  log: (line: string) => void;
}) {
  const tried = new Set<string>();
  const enabled = () => {
    try {
      return readUpdateSettings(options.stateDir).auto;
    } catch (error) {
      options.log(`ignoring ${join(options.stateDir, "update.json")}: ${(error as Error).message}`);
      return false;
    }
  };
  return {
    /** Whether automatic updates are on now (announced as `auto-update` at each handshake). */
    enabled,
    /** Handles an offer: starts the updater when automatic mode is on; true when it did. */
    offered(offer: WorkerUpdateAvailableMessage): boolean {
      if (!enabled()) {
        options.log(
          `worker release ${offer.version} is available; install it with \`ignis worker update\` (or turn on --auto)`,
        );
        return false;
      }
      if (tried.has(offer.version)) return false;
      tried.add(offer.version);
      const url = new URL(offer.url, options.server()).toString();
      const out = openSync(join(options.stateDir, "update.log"), "a");
      const child = spawn(
        options.launcher.node,
        [options.launcher.script, ...updaterArguments(options.stateDir, offer, url)],
        { detached: true, stdio: ["ignore", out, out] },
      );
      child.unref();
      options.log(
        `installing worker release ${offer.version} automatically (pid ${child.pid}, see update.log)`,
      );
      return true;
    },
  };
}

/**
 * The `ignis worker update` arguments for an offer. Each value is joined to its flag with `=`: a base64url
 * signature starts with `-` one time in 64, and a separate argument that starts with `-` is refused by the
 * option parser as ambiguous, which would leave that release uninstallable.
 */
export function updaterArguments(
  stateDir: string,
  offer: WorkerUpdateAvailableMessage,
  url: string,
): string[] {
  return [
    ...["worker", "update", `--state=${stateDir}`, `--version=${offer.version}`],
    ...[`--package=${url}`, `--signature=${offer.signature}`, `--sha256=${offer.sha256}`],
  ];
}
