import { randomBytes } from "node:crypto";
import {
  decodeWorkerFrame,
  encodeFrame,
  FRAME_FEATURES,
  type HeartbeatMessage,
  IgnisError,
  isIgnisError,
  negotiateProtocol,
  type ServerMessage,
  SUPPORTED_WORKER_PROTOCOLS,
  type WorkerMessage,
} from "@ignis/protocol";
import type { WebSocket } from "ws";
import type { UptimeMark } from "../uptime/uptime-tracker.js";
import { CloseCode } from "./close-codes.js";
import { handleKeyRotation, handleMetadataUpdate } from "./device-requests.js";
import { authenticateSession, reportRefusedHandshake } from "./handshake.js";
import type { HubSession, SessionHub, SessionInfo, SessionPhase } from "./session-hub.js";
import { TokenBucket } from "./token-bucket.js";

/** Invalid frames a session may send before it is closed. */
const MAX_INVALID_FRAMES = 10;
/** How long a connection may wait before authenticating. */
const AUTH_TIMEOUT_MS = 10_000;

/** One worker connection: challenge, authentication, then heartbeats and device messages bound to one device. */
export class WorkerSession implements HubSession {
  readonly id = randomBytes(12).toString("base64url");
  readonly nonce = randomBytes(32).toString("base64url");
  readonly info: SessionInfo = sessionInfo();
  phase: SessionPhase = "challenged";
  keyId = "";
  publicKey = "";
  keyCreatedMs = 0;
  lastHeartbeatMs = 0;
  openedMs: number;
  markedOffline = false;
  /** Heartbeats after this time earn no up-minute (an outdated worker past its grace period). */
  earningUntilMs = Number.POSITIVE_INFINITY;
  /** The highest heartbeat seq waiting for its acknowledgement (heartbeat-acks.ts); -1 for none. */
  ackSeq = -1;
  /** The rotation the server asked this session for (a fleet migration or the owner), until its deadline. */
  rotationAsked: { id: string; untilMs: number } | undefined;
  private invalidFrames = 0;
  private throttleNoticeMs = 0;
  private uptime: UptimeMark | undefined;
  private bound = false;
  private readonly heartbeats: TokenBucket;
  private readonly frames: TokenBucket;
  readonly metadata: TokenBucket;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: SessionHub,
    readonly socket: WebSocket,
    readonly ip: string,
  ) {
    const now = hub.now();
    this.openedMs = now;
    // Twice the allowed heartbeat rate with a burst of ten absorbs jitter, reconnects and frames that arrive
    // together after a network stall; a device sending ten times its rate loses most of them.
    this.heartbeats = new TokenBucket(10, 2 / hub.heartbeatSeconds, now);
    this.frames = new TokenBucket(500, 250, now);
    this.metadata = new TokenBucket(3, 0.1, now);
    socket.on("message", (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on("close", () => this.onClose());
    socket.on("error", () => socket.terminate());
    socket.on("pong", () => this.onPong());
    this.authTimer = setTimeout(
      () => this.fail(new IgnisError("handshake_failed", "authenticate sooner")),
      AUTH_TIMEOUT_MS,
    );
    this.authTimer.unref();
    this.send({
      type: "session.challenge",
      nonce: this.nonce,
      origin: hub.origins[0]!,
      protocol: SUPPORTED_WORKER_PROTOCOLS,
    });
  }

  /**
   * Sends a message, in the session's negotiated version, if the socket is open; false when it is not, or when
   * the message needs a feature the session did not negotiate (a worker never gets a frame it cannot decode).
   */
  send(message: ServerMessage): boolean {
    if (this.socket.readyState !== 1) return false;
    const feature = FRAME_FEATURES[message.type];
    if (feature !== undefined && !this.info.supports(feature)) return false;
    if (message.type === "key.rotate-request") {
      this.rotationAsked = { id: message.migrationId, untilMs: Date.parse(message.rotateBy) };
    }
    this.socket.send(encodeFrame(message, this.info.protocolVersion));
    return true;
  }

  /** Writes a frame already encoded (a batched heartbeat acknowledgement); false when the socket is not open. */
  sendRaw(frame: string): boolean {
    if (this.socket.readyState !== 1) return false;
    this.socket.send(frame);
    return true;
  }

  /** Sends an error and closes the socket with a code the worker acts on. */
  close(code: number, error: IgnisError): void {
    if (this.phase === "closed") return;
    this.send({ type: "session.error", code: error.code, message: error.message, fatal: true });
    this.phase = "closed";
    this.socket.close(code, error.code);
    // A peer that never completes the closing handshake is cut off.
    setTimeout(() => this.socket.terminate(), 2_000).unref();
  }

  /** Measures the round trip with a WebSocket ping. */
  ping(): void {
    if (this.socket.readyState !== 1) return;
    this.pingSentMs = this.hub.now();
    this.socket.ping();
  }
  private pingSentMs = 0;

  /** Asks the peer for a pong: true when it answers within `timeoutMs`, false when it is silent or gone. */
  probe(timeoutMs: number): Promise<boolean> {
    if (this.phase === "closed" || this.socket.readyState !== 1) return Promise.resolve(false);
    return new Promise((resolve) => {
      const answered = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.socket.off("pong", answered);
        resolve(false);
      }, timeoutMs);
      this.socket.once("pong", answered);
      this.socket.ping();
    });
  }

  /** Binds the authenticated session to its device: heartbeats count from now on. Called by the hub. */
  activate(): void {
    if (this.phase !== "verifying") return;
    this.uptime = this.hub.uptime.track(this.info.deviceId);
    this.bound = true;
    this.lastHeartbeatMs = this.hub.now();
    this.phase = "live";
  }

  private onPong(): void {
    if (this.pingSentMs === 0) return;
    const sample = this.hub.now() - this.pingSentMs;
    this.info.rttMs = this.info.rttMs === 0 ? sample : Math.round(this.info.rttMs * 0.7 + sample * 0.3);
    this.pingSentMs = 0;
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.phase === "closed") return;
    const now = this.hub.now();
    if (!this.frames.take(now)) {
      this.throttled(now, "too many frames; the excess is dropped");
      return;
    }
    let message: WorkerMessage;
    try {
      if (isBinary) throw new IgnisError("bad_request", "frames are JSON text");
      message = decodeWorkerFrame(data.toString("utf8"));
    } catch (error) {
      if (this.phase === "challenged" && isIgnisError(error, "protocol_unsupported")) {
        this.refuseProtocol(error);
        return;
      }
      this.refuse(isIgnisError(error) ? error : new IgnisError("bad_request", "bad frame"), now);
      return;
    }
    if (this.phase !== "live") {
      if (this.phase === "challenged" && message.type === "session.auth") {
        try {
          const negotiated = negotiateProtocol(message);
          this.info.protocolVersion = negotiated.version;
          this.info.features = new Set(negotiated.features);
          this.info.workerVersion = message.workerVersion ?? null;
        } catch (error) {
          this.refuseProtocol(error as IgnisError);
          return;
        }
        this.phase = "verifying";
        void this.authenticate(message, now);
      } else {
        this.refuseOutOfOrder(message.type);
      }
      return;
    }
    switch (message.type) {
      case "heartbeat":
        this.onHeartbeat(message, now);
        break;
      case "metadata.update":
        void handleMetadataUpdate(this.hub, this, message);
        break;
      case "key.rotate":
        void handleKeyRotation(this.hub, this, message);
        break;
      case "session.auth":
        this.refuse(new IgnisError("conflict", "already authenticated"), now);
        break;
      default:
        this.hub.dispatch(this, message);
    }
  }

  private onHeartbeat(message: HeartbeatMessage, now: number): void {
    if (message.deviceId !== undefined && message.deviceId !== this.info.deviceId) {
      this.crossDevice("device.heartbeat", message.deviceId);
      return;
    }
    if (!this.heartbeats.take(now)) {
      this.hub.counters.throttled++;
      this.throttled(now, "heartbeats above the allowed rate are dropped");
      return;
    }
    this.lastHeartbeatMs = now;
    this.uptime!.mark(now, message.load, now < this.earningUntilMs);
    this.hub.counters.heartbeats++;
    this.hub.metrics?.heartbeats.inc();
    if (message.ack) this.hub.acks.ask(this, message.seq);
    this.hub.dispatch(this, message);
  }

  /** A session naming another device: refused, audited, closed. The other device is untouched. */
  crossDevice(action: string, named: string): void {
    this.hub.counters.crossDevice++;
    this.hub.audit({
      actorType: "device",
      actorId: this.info.deviceId,
      credentialId: this.keyId,
      action,
      objectType: "device",
      objectId: named.slice(0, 64),
      outcome: "refused:forbidden",
      ip: this.ip,
      details: { sessionId: this.id, reason: "message names another device" },
    });
    this.close(
      CloseCode.forbidden,
      new IgnisError("forbidden", "a session may speak only for its own device"),
    );
  }

  /** Drops a frame over the session's budget; says so at most once a second (no allocation otherwise). */
  private throttled(now: number, message: string): void {
    if (now - this.throttleNoticeMs < 1000) return;
    this.throttleNoticeMs = now;
    this.send({ type: "session.error", code: "rate_limited", message, fatal: false });
  }

  /** Answers a bad frame with a non-fatal error (at most once a second), closing after too many. */
  private refuse(error: IgnisError, now: number): void {
    if (++this.invalidFrames > MAX_INVALID_FRAMES) {
      this.close(CloseCode.protocol, new IgnisError("bad_request", "too many invalid frames"));
      return;
    }
    if (now - this.throttleNoticeMs < 1000) return;
    this.throttleNoticeMs = now;
    this.send({ type: "session.error", code: error.code, message: error.message, fatal: false });
  }

  /** A frame before authentication (or a second opener): audited within the address's budget, then closed. */
  private refuseOutOfOrder(type: string): void {
    void this.hub.noteFailedHandshake(this.ip).then((withinBudget) => {
      if (!withinBudget) return;
      this.hub.audit({
        actorType: "anonymous",
        action: "device.session.frame",
        objectType: "device",
        objectId: null,
        outcome: "refused:handshake_failed",
        ip: this.ip,
        details: { sessionId: this.id, type, reason: "frame before authentication" },
      });
    });
    this.fail(new IgnisError("handshake_failed", "authenticate first, once"));
  }

  /** An opener in a protocol version this server no longer (or not yet) speaks: audited, told why, closed. */
  private refuseProtocol(error: IgnisError): void {
    clearTimeout(this.authTimer);
    void this.hub.noteFailedHandshake(this.ip).then((withinBudget) => {
      if (!withinBudget) return;
      this.hub.audit({
        actorType: "anonymous",
        action: "device.session.open",
        objectType: "device",
        objectId: null,
        outcome: "refused:protocol_unsupported",
        ip: this.ip,
        details: { sessionId: this.id, ...(error.details ?? {}) },
      });
    });
    this.close(CloseCode.protocolUnsupported, error);
  }

  private fail(error: IgnisError): void {
    const code =
      error.code === "device_conflict"
        ? CloseCode.conflict
        : error.code === "handshake_failed"
          ? CloseCode.unauthenticated
          : CloseCode.protocol;
    this.close(code, error);
  }

  private async authenticate(auth: Extract<WorkerMessage, { type: "session.auth" }>, startedMs: number) {
    clearTimeout(this.authTimer);
    try {
      const device = await authenticateSession(this.hub.handshakes, auth, {
        nonce: this.nonce,
        origins: this.hub.origins,
        now: new Date(this.hub.now()),
      });
      if (this.phase !== "verifying") return;
      this.info.deviceId = device.deviceId;
      this.info.rttMs = Math.max(1, startedMs - this.openedMs);
      this.keyId = device.keyId;
      this.publicKey = device.publicKey;
      this.keyCreatedMs = device.keyCreatedAt.getTime();
      // The hub activates the session once no other live session holds the device (a duplicate is refused).
      await this.hub.register(this, device);
    } catch (error) {
      this.fail(await reportRefusedHandshake(this.hub, this, auth.deviceId, error));
    }
  }

  private onClose(): void {
    clearTimeout(this.authTimer);
    this.phase = "closed";
    if (this.bound) {
      this.bound = false;
      this.uptime?.release();
      this.hub.unregister(this);
    }
  }
}

/** A fresh session's info: no device yet, v1 until the handshake negotiates, no features. */
function sessionInfo(): SessionInfo {
  const info: SessionInfo = {
    deviceId: "",
    rttMs: 0,
    protocolVersion: 1,
    workerVersion: null,
    features: new Set<string>(),
    supports: (feature) => info.features.has(feature),
  };
  return info;
}
