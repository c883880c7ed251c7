import { createHash, type Hash } from "node:crypto";
import type { LinkProbeMessage, LinkResultMessage, WorkerMessage } from "@ignis/protocol";

/** When a worker asks the server to measure its link: a while after it starts, then every few hours. */
export interface LinkCheckTiming {
  /** Longest wait after the session opens (a random share of it, so a fleet restart does not ask at once). */
  startDelayMs: number;
  /** Mean time between measurements; each wait is this ± a quarter. */
  everyMs: number;
}

/** The defaults: within two minutes of starting, then every four hours (three to five). */
export const DEFAULT_LINK_CHECK_TIMING: LinkCheckTiming = Object.freeze({
  startDelayMs: 120_000,
  everyMs: 4 * 3600_000,
});

/** Probes a worker answers at once; the server runs one at a time, so more means a misbehaving peer. */
const MAX_OPEN_PROBES = 4;

/** The worker's part in measuring its link to the control plane (feature `link-probe`, protocol link-probe.ts). */
export interface LinkCheck {
  /** A session opened; `negotiated` says whether it agreed on `link-probe`. */
  opened(negotiated: boolean): void;
  /** A chunk of a probe: hashed as it comes, acknowledged with the digest after the last one. */
  probe(message: LinkProbeMessage): void;
  /** The server's verdict: logged, and the next request scheduled. */
  result(message: LinkResultMessage): void;
  /** The session ended: nothing more is sent on it. */
  closed(): void;
}

/**
 * Asks the server to measure this device's link when the session starts and every few hours, and answers the
 * probes. The worker never reports numbers of its own: the server times the probes, and the tier it gives is
 * what the explorer shows and what cluster requests with `minTier` match.
 */
export function createLinkCheck(options: {
  send: (message: WorkerMessage) => boolean;
  log: (line: string) => void;
  timing?: Partial<LinkCheckTiming> | undefined;
}): LinkCheck {
  const timing = { ...DEFAULT_LINK_CHECK_TIMING, ...options.timing };
  const open = new Map<string, Hash>();
  let timer: NodeJS.Timeout | undefined;

  const askIn = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => options.send({ type: "link.measure" }), Math.max(0, Math.round(ms)));
    timer.unref();
  };

  return {
    opened(negotiated) {
      open.clear();
      if (negotiated) askIn(Math.random() * timing.startDelayMs);
    },
    probe(message) {
      let hash = open.get(message.probeId);
      if (!hash) {
        if (open.size >= MAX_OPEN_PROBES) open.clear();
        hash = createHash("sha256").update(message.probeId);
        open.set(message.probeId, hash);
      }
      hash.update(message.data);
      if (!message.last) return;
      open.delete(message.probeId);
      options.send({ type: "link.probe-ack", probeId: message.probeId, digest: hash.digest("hex") });
    },
    result(message) {
      if (message.outcome === "measured" || message.outcome === "failed") {
        options.log(
          `link to the server: ${message.rttMs ?? "?"} ms round trip, ${message.mbps?.toFixed(1) ?? "?"} Mbit/s down: connectivity tier ${message.tier ?? 1}`,
        );
        askIn(timing.everyMs * (0.75 + Math.random() * 0.5));
      } else {
        // busy or too_soon: ask again when the server says, spread a little.
        askIn((message.retryAfterSeconds ?? 600) * 1000 * (1 + Math.random() * 0.2));
      }
    },
    closed() {
      clearTimeout(timer);
      open.clear();
    },
  };
}
