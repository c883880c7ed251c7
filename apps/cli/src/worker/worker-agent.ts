import {
  decodeServerFrame,
  encodeFrame,
  type HardwareClaim,
  HEARTBEAT_ACK_EVERY,
  heartbeatAsksAck,
  MAX_WORKER_MESSAGE_BYTES,
  originOf,
  type ServerMessage,
  sessionSigningText,
  WORKER_PROTOCOL_VERSION,
  WORKER_SESSION_PATH,
  type WorkerMessage,
} from "@ignis/protocol";
import WebSocket from "ws";
import { simulatedClaim } from "../hardware/detect.js";
import { createLoadSampler } from "../hardware/load-sampler.js";
import type { JobRuntimeChoice } from "../jobs/job-runtime.js";
import type { LimitCaps } from "../jobs/limits.js";
import type { Prover } from "../prover/prover.js";
import { RETRYABLE_STATUSES, retryAfterMs, withJitter } from "../retry-after.js";
import { Backoff } from "./backoff.js";
import { createDeviceDuties } from "./device-duties.js";
import { type DeviceKey, signText } from "./device-key.js";
import { createKeyRing } from "./key-ring.js";
import { createLinkCheck, type LinkCheckTiming } from "./link-check.js";
import { proofVerdictLine } from "./proof-verdict-line.js";
import { createSessionRotation } from "./session-rotation.js";
import { WORKER_RELEASE, workerOffer } from "./worker-release.js";
import { assertPrivateKeyFile, readDeviceState } from "./worker-state.js";

/** How a worker runs. Everything but `stateDir` has a default. */
export interface StartWorkerOptions {
  stateDir: string;
  /**
   * The server to connect to; defaults to the one the device enrolled with. Several, comma-separated, are tried
   * in turn: each reconnect goes to the next, so the devices of a replica that dies move to the others.
   */
  server?: string;
  /** The hardware profile whose prover and load model the worker uses; defaults to the enrolled one. */
  profile?: string;
  /** Overrides the heartbeat interval the server announces (tests). */
  heartbeatSeconds?: number;
  /** A prover to use instead of the profile's (counterfeit devices in tests and `ignis sim`). */
  proverOverride?: Prover;
  /**
   * How long to hold each answer to the server's pings (adversaries in tests: a worker faking a stalled host);
   * pings are answered at once when absent.
   */
  pongDelayMs?: () => number;
  /** Sees every message from the server, after the worker handled it. */
  onMessage?: (message: ServerMessage) => void;
  /**
   * What runs jobs (`ignis worker run` passes its sandbox, still being checked while the worker connects: job
   * orders wait for it); see jobRuntimeFor for the default.
   */
  jobs?: JobRuntimeChoice | Promise<JobRuntimeChoice>;
  /** The supplier's caps on a job's resources. */
  jobCaps?: LimitCaps;
  /**
   * A claim to send as a metadata update after each handshake (the sandbox report rides in it); replaced with
   * `setMetadata` when the worker learns more (its sandbox check ended).
   */
  metadata?: HardwareClaim;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** The release this worker announces (tests and `ignis sim` pose as older workers); defaults to this package's. */
  workerVersion?: string;
  /** When to ask the server to measure the device's link (tests shorten the first wait). */
  linkCheck?: Partial<LinkCheckTiming>;
  /** Asked at each handshake: does this worker install offered releases by itself (`auto-update`)? */
  autoUpdate?: () => boolean;
  log?: (line: string) => void;
}

/** Why a worker stopped for good: stop(), or a live session told it the device was revoked. */
export type WorkerExit = { reason: "stopped" } | { reason: "revoked"; message: string };

/**
 * What a refusal means, in plain words for the log. Anything else is shown as the server's message. A worker
 * never stops on these: it retries with backoff, so a device displaced by a copy of its key comes back once the
 * owner resolves the conflict.
 */
const REFUSALS: Record<string, string> = {
  session_replaced:
    "another session of this device took over (the same device connected again, or a copy of its key did)",
  device_conflict:
    "another machine is using this device's key at the same time; the server refuses both until the owner resolves the conflict in the device view (keep one machine, or revoke and re-enroll)",
  handshake_failed:
    "the server did not accept this device's key (an unknown, revoked or retired device, or a clock or origin mismatch); if the device was revoked, enroll it again",
  key_rotation_failed: "the server refused a key rotation; the device keeps its current key",
  protocol_unsupported:
    "the server no longer speaks this worker's protocol version; update the worker with `ignis worker update` (or install the new release by hand)",
};

/** A running worker. */
export interface WorkerHandle {
  deviceId: string;
  /** Resolves at the first authenticated session; rejects if the worker stops before one. */
  connected: Promise<void>;
  /** Resolves when the worker stops for good: stop(), or revocation announced over a live session. */
  done: Promise<WorkerExit>;
  stop(): Promise<void>;
  /** Sends a message over the live session; false when there is none (tests use it to misbehave). */
  send(message: WorkerMessage): boolean;
  /** Replaces the claim sent after each handshake, and sends it now over the live session, if any. */
  setMetadata(claim: HardwareClaim): void;
  /** The protocol version the current (or last) session negotiated; 1 before the first. */
  protocolVersion(): number;
  stats(): {
    sessions: number;
    heartbeats: number;
    rttMs: number;
    rotations: number;
    /** Sessions the server ended or refused with a reason (each was logged and retried). */
    refusals: number;
    online: boolean;
  };
}

/**
 * Starts the worker of an enrolled device: a WebSocket session signed with the device key, heartbeats at the
 * server's interval, proof challenges and jobs, in-band key rotation, and reconnection with jittered exponential
 * backoff. Usable in-process (tests, `ignis sim`) as well as by `ignis worker run`.
 */
export function startWorker(options: StartWorkerOptions): WorkerHandle {
  const state = readDeviceState(options.stateDir);
  if (!state) throw new Error(`no enrolled device in ${options.stateDir}; run \`ignis worker enroll\` first`);
  assertPrivateKeyFile(options.stateDir);
  const log = options.log ?? (() => {});
  const servers = (options.server ?? state.server)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let attempt = 0;
  let dialled: string | undefined;
  const keys = createKeyRing(options.stateDir);
  const backoff = new Backoff(options.reconnectBaseMs ?? 500, options.reconnectMaxMs ?? 30_000);
  const profile = options.profile ?? state.profile;
  const claim = profile.startsWith("sim-") ? simulatedClaim(profile, "unknown") : undefined;
  const sampler = claim ? createLoadSampler(claim) : undefined;
  const counts = { sessions: 0, heartbeats: 0, rttMs: 0, rotations: 0, refusals: 0 };
  let socket: WebSocket | undefined;
  let online = false;
  // When the last session ended, so a new one can say it is a reconnection and after how long.
  let offlineSince: number | undefined;
  /** The live session's heartbeat, for the last one sent on stop(). */
  let beatNow: (() => void) | undefined;
  // Every session starts in v1 and moves to what the server's hello chose.
  let speaking = 1;
  let metadata = options.metadata;
  let stopping = false;
  let exit: WorkerExit | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (e: WorkerExit) => void;
  const done = new Promise<WorkerExit>((r) => (resolveDone = r));
  let markConnected!: () => void;
  let failConnected!: (e: Error) => void;
  const connected = new Promise<void>((res, rej) => {
    markConnected = res;
    failConnected = rej;
  });
  connected.catch(() => undefined);

  const send = (message: WorkerMessage): boolean => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encodeFrame(message, speaking));
    return true;
  };
  const duties = createDeviceDuties({
    profileId: profile,
    stateDir: options.stateDir,
    send,
    log,
    proverOverride: options.proverOverride,
    jobs: options.jobs,
    jobCaps: options.jobCaps,
    serverHost: () => (dialled ? new URL(dialled).hostname : undefined),
  });

  const links = createLinkCheck({ send, log, timing: options.linkCheck });

  const connect = () => {
    if (stopping) return;
    const server = servers[attempt++ % servers.length]!;
    dialled = server;
    const origin = originOf(server);
    const ws = new WebSocket(`${server.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`, {
      perMessageDeflate: false,
      maxPayload: MAX_WORKER_MESSAGE_BYTES,
      handshakeTimeout: 10_000,
      autoPong: !options.pongDelayMs,
    });
    socket = ws;
    let nonce = "";
    let usingKey: DeviceKey = keys.forHandshake();
    let heartbeat: NodeJS.Timeout | undefined;
    let fatal: { code: string; message: string } | undefined;
    let seq = 0;
    let lastAckMs = Date.now();
    let announcedOrigin = origin;
    const rotation = createSessionRotation({
      keys,
      deviceId: state.deviceId,
      send,
      log,
      current: () => ({ key: usingKey, nonce, open: ws.readyState === WebSocket.OPEN }),
    });

    const beat = (intervalMs: number) => {
      // One heartbeat in HEARTBEAT_ACK_EVERY asks for an ack; nothing heard (no ack, no ping) for two intervals
      // beyond that (15 s at least): the connection is dead even if TCP has not noticed.
      if (Date.now() - lastAckMs > Math.max((HEARTBEAT_ACK_EVERY + 2) * intervalMs, 15_000))
        return ws.terminate();
      const load = sampler?.sample(duties.busy()) ?? {
        cpuPercent: 0,
        memUsedGb: 0,
        gpus: [],
        busy: duties.busy(),
      };
      const ack = heartbeatAsksAck(seq);
      if (send({ type: "heartbeat", seq: seq++, deviceId: state.deviceId, ack, load })) counts.heartbeats++;
    };

    ws.on("message", (data) => {
      let message: ServerMessage;
      try {
        message = decodeServerFrame(data.toString());
      } catch (error) {
        return log(`ignored a frame from the server: ${(error as Error).message}`);
      }
      switch (message.type) {
        case "session.challenge": {
          announcedOrigin = message.origin;
          nonce = message.nonce;
          usingKey = keys.forHandshake();
          const signature = signText(usingKey, sessionSigningText(nonce, state.deviceId, origin));
          const opener = { deviceId: state.deviceId, publicKey: usingKey.publicKey, signature };
          speaking = 1;
          // A server older than v2 announces no range and refuses fields it does not know: speak plain v1 to it.
          if (message.protocol && message.protocol.max >= 2) {
            speaking = Math.min(message.protocol.max, WORKER_PROTOCOL_VERSION);
            send({
              type: "session.auth",
              ...opener,
              ...workerOffer(
                options.workerVersion ?? WORKER_RELEASE,
                options.autoUpdate?.() ?? false,
                duties.provesMemory(),
              ),
            });
          } else {
            send({ type: "session.auth", ...opener });
          }
          break;
        }
        case "session.hello": {
          if (keys.handshakeSucceeded(usingKey)) {
            counts.rotations++;
            log("finished a key rotation interrupted by a lost connection");
          }
          online = true;
          speaking = message.protocol ?? 1;
          counts.sessions++;
          backoff.reset();
          lastAckMs = Date.now();
          const intervalMs = (options.heartbeatSeconds ?? message.heartbeatSeconds) * 1000;
          beat(intervalMs);
          heartbeat = setInterval(() => beat(intervalMs), intervalMs);
          beatNow = () => beat(intervalMs);
          markConnected();
          links.opened(message.features?.includes("link-probe") === true);
          // The device's metadata (its sandbox report) is current on the server whenever it can be hired.
          if (metadata) send({ type: "metadata.update", hardware: metadata });
          if (offlineSince === undefined) {
            log(`online as ${message.deviceId} (heartbeat every ${intervalMs / 1000} s)`);
          } else {
            const away = ((Date.now() - offlineSince) / 1000).toFixed(1);
            log(
              `reconnected as ${message.deviceId} after ${away} s offline (heartbeat every ${intervalMs / 1000} s)`,
            );
          }
          offlineSince = undefined;
          break;
        }
        case "heartbeat.ack":
          lastAckMs = Date.now();
          counts.rttMs = Math.max(0, Date.now() - message.serverTime);
          break;
        case "session.error":
          if (message.fatal) fatal = { code: message.code, message: message.message };
          else log(`server: ${message.code}: ${message.message}`);
          if (message.code === "key_rotation_failed") rotation.refused();
          break;
        case "key.rotate-request":
          rotation.requested(message);
          break;
        case "key.rotated": {
          const rotated = rotation.confirmed(message);
          if (rotated) {
            usingKey = rotated;
            counts.rotations++;
          }
          break;
        }
        case "proof.verdict":
          log(proofVerdictLine(message));
          break;
        case "link.probe":
          links.probe(message);
          break;
        case "link.result":
          links.result(message);
          break;
        case "proof.challenge":
        case "proof.reveal-request":
          duties.proof(message);
          break;
        case "job.start":
        case "job.stop":
          duties.job(message);
          break;
        case "stream.open":
        case "stream.data":
        case "stream.ack":
        case "stream.eof":
        case "stream.close":
          duties.stream(message);
          break;
        case "worker.notice":
          log(
            `NOTICE ${message.code}: ${message.message}${message.updateCommand ? ` (run: ${message.updateCommand})` : ""}`,
          );
          break;
        case "worker.update-available":
          // `ignis worker run` acts on it in onMessage (automatic mode); a bare worker only says so.
          if (!options.onMessage) {
            log(`worker release ${message.version} is available; install it with \`ignis worker update\``);
          }
          break;
      }
      options.onMessage?.(message);
    });

    // The server's liveness pings also show the connection is alive between acknowledged heartbeats.
    ws.on("ping", (data) => {
      lastAckMs = Date.now();
      const delayMs = options.pongDelayMs?.();
      if (delayMs === undefined) return;
      setTimeout(() => ws.readyState === WebSocket.OPEN && ws.pong(data), delayMs).unref();
    });
    // A proxy or the server shedding load answers the upgrade with 429/503 and a Retry-After: wait that long.
    let toldToWaitMs: number | undefined;
    let answeredStatus: number | undefined;
    ws.on("unexpected-response", (_request, response) => {
      answeredStatus = response.statusCode ?? 0;
      if (RETRYABLE_STATUSES.has(answeredStatus))
        toldToWaitMs = retryAfterMs(response.headers["retry-after"]) ?? 0;
      response.resume();
      ws.terminate();
    });
    ws.on("error", (error) => {
      if (answeredStatus === undefined) log(`connection: ${error.message}`);
    });
    ws.on("close", () => {
      clearInterval(heartbeat);
      links.closed();
      beatNow = undefined;
      rotation.stop();
      const wasOnline = online;
      online = false;
      if (socket === ws) socket = undefined;
      if (fatal && !wasOnline) keys.handshakeFailed(usingKey, fatal.code);
      if (fatal?.code === "device_revoked") return finish({ reason: "revoked", message: fatal.message });
      if (stopping) return;
      const delay =
        toldToWaitMs === undefined ? backoff.next() : Math.max(backoff.next(), withJitter(toldToWaitMs));
      if (answeredStatus !== undefined) {
        const busy = toldToWaitMs !== undefined ? " (busy: it asked to come back later)" : "";
        log(`connection: the server answered HTTP ${answeredStatus}${busy}; retrying in ${delay} ms`);
      }
      if (wasOnline) {
        offlineSince = Date.now();
        if (!fatal) log(`lost the connection to ${server}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      }
      if (fatal) {
        log(`refused (${fatal.code}): ${REFUSALS[fatal.code] ?? fatal.message}; retrying in ${delay} ms`);
        counts.refusals++;
      }
      if (fatal && !wasOnline && announcedOrigin !== origin) {
        log(
          `the server calls itself ${announcedOrigin} but was reached at ${origin}: set IGNIS_PUBLIC_URL on it`,
        );
      }
      reconnectTimer = setTimeout(connect, delay);
    });
  };

  const finish = (e: WorkerExit) => {
    if (exit) return;
    exit = e;
    stopping = true;
    clearTimeout(reconnectTimer);
    failConnected(
      new Error(e.reason === "stopped" ? "the worker stopped" : `device ${e.reason}: ${e.message}`),
    );
    void duties.close().finally(() => resolveDone(e));
  };

  connect();
  return {
    deviceId: state.deviceId,
    connected,
    done,
    send,
    setMetadata(claim) {
      metadata = claim;
      if (online) send({ type: "metadata.update", hardware: claim });
    },
    protocolVersion: () => speaking,
    stats: () => ({ ...counts, online }),
    async stop() {
      stopping = true;
      clearTimeout(reconnectTimer);
      const ws = socket;
      // A last heartbeat marks the slot the worker stops in, so a restart (an update) that is online again
      // within a slot loses no up-minute (docs/worker-sessions.md, "Versions and upgrades").
      if (online) beatNow?.();
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((r) => ws.once("close", r));
        ws.close(1000, "worker stopping");
        setTimeout(() => ws.terminate(), 2_000).unref();
        await closed;
      }
      finish({ reason: "stopped" });
      await done;
    },
  };
}
