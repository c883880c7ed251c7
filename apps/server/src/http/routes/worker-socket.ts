import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import fastifyWebsocket from "@fastify/websocket";
import { IgnisError, MAX_WORKER_MESSAGE_BYTES, WORKER_SESSION_PATH } from "@ignis/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { appendAudit } from "../../security/audit-log.js";
import { BoundedMap } from "../../security/signals.js";
import { createSocketAdmission, type Place } from "../../security/socket-admission.js";
import type { App } from "../app.js";
import { requestIdOf, sendProblem } from "../app.js";
import { clientAddress, trustProxyOption } from "../client-address.js";
import type { AppContext } from "../context.js";
import { endUpgradeWithProblem, isWebSocketHandshake } from "../early-listener.js";
import { problemFor } from "../problem.js";

const HELLO = '"type":"session.hello"';

/** A flood of refused sockets from one address leaves one audit record a minute, not one per socket. */
const REFUSAL_AUDIT_EVERY_MS = 60_000;

/**
 * What an address whose line is full (or whose opener waited in it too long) is told to wait. A GPU farm of
 * hundreds of devices behind one NAT, all reconnecting after a rolling restart, waits in its address's line and
 * is admitted in arrival order as places free; only openers beyond the line come back a second later (the
 * refusal itself costs the server next to nothing, so a flooder gains nothing from the short wait).
 */
const PENDING_CAP_RETRY_AFTER_SECONDS = 1;

/**
 * The worker WebSocket. Its upgrade is served before Fastify's router: a worker authenticates in-band with its
 * device key (gateway/handshake.ts, within the gateway's handshake deadline), so none of the HTTP pipeline's
 * credential, CORS or header work applies to it, and at a reconnect storm's thousands of opens a second that
 * work was a fifth of each open's CPU (docs/performance.md). What the upgrade keeps: an opener whose address
 * already holds its cap of sockets still in their handshake waits in the address's short line for a place, and
 * past that line is refused with 429 `rate_limited` (security/socket-admission.ts, audited once a minute per
 * address); past the server-wide pace of handshakes (`IGNIS_HANDSHAKES_PER_SECOND`) an opener is refused with
 * 503 `server_busy` and a Retry-After spread over the refused demand (gateway/handshake-pacer.ts), which
 * workers honour, so a restarted server admits its fleet in turns; refusals are
 * problem+json with a request id like any other; every upgrade is counted in the request metrics and seen by the
 * security monitor, keyed on the same client address (`IGNIS_TRUST_PROXY`) as every other route. Frames above
 * the protocol's cap close the socket (1009); compression is off, which keeps per-session memory small. A plain
 * GET of the path answers 426 `upgrade_required`.
 *
 * The other WebSocket routes (a rank's SSH and port forwards) authenticate with HTTP credentials, so their
 * upgrades go through Fastify's router and the whole pipeline (@fastify/websocket, listening on `routed`).
 */
export async function workerSocketRoutes(app: App, ctx: AppContext): Promise<void> {
  const routed = new EventEmitter();
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_WORKER_MESSAGE_BYTES,
      perMessageDeflate: false,
      clientTracking: true,
      server: routed as never,
    },
  });
  const workers = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WORKER_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: true,
  });
  const admission = createSocketAdmission();
  const audited = new BoundedMap<string, number>(10_000);
  const pacer = ctx.handshakes;
  const addressOf = clientAddress(trustProxyOption(ctx.config.trustProxy));

  /** Counts the upgrade's answer as the pipeline counts every request's, and shows it to the security monitor. */
  const observe = (ip: string, status: number, startedAt: bigint) => {
    ctx.metrics.httpDuration.observe(
      { method: "GET", route: WORKER_SESSION_PATH, status: String(status) },
      Number(process.hrtime.bigint() - startedAt) / 1e9,
    );
    ctx.security.observeRequest({
      at: Date.now(),
      actorType: "anonymous",
      actorId: null,
      credentialId: null,
      credentialType: null,
      admin: false,
      ip,
      method: "GET",
      route: WORKER_SESSION_PATH,
      rateClass: "read",
      write: false,
      objectType: null,
      objectId: null,
      status,
    });
  };

  /** Answers a refused upgrade on the raw socket as problem+json (the shape `sendProblem` gives); its status. */
  const refuse = (socket: Duplex, error: IgnisError, requestId: string): number => {
    const problem = problemFor(error, requestId, WORKER_SESSION_PATH);
    const retry = error.details?.retryAfterSeconds;
    endUpgradeWithProblem(socket, problem.status, problem.title, JSON.stringify(problem), {
      ...(typeof retry === "number" ? { "retry-after": String(retry) } : {}),
      "x-request-id": requestId,
      "cache-control": "no-store",
    });
    return problem.status;
  };

  /** Upgrades waiting in their address's line or the pacer's queue, ended if the server closes first. */
  const queued = new Set<Duplex>();
  /**
   * A place among the address's sockets in their handshake, waiting in its line when the cap is reached
   * (security/socket-admission.ts); undefined when the opener left while waiting, or the refusal (429
   * `rate_limited`, audited once a minute per address) when the line is full or the wait ran out.
   */
  const placeFor = async (
    ip: string,
    socket: Duplex,
    requestId: () => string,
  ): Promise<Place | IgnisError | undefined> => {
    let place: Place | "left" | undefined;
    if (admission.mayOpen(ip)) place = admission.track(ip, socket);
    else {
      ctx.metrics.workerSocketsLined.inc();
      queued.add(socket);
      place = await admission.line(ip, socket);
      queued.delete(socket);
    }
    if (place === "left") {
      socket.destroy();
      return undefined;
    }
    if (place) return place;
    ctx.metrics.workerSocketsRefused.inc({ reason: "rate_limited" });
    const now = Date.now();
    if (now - (audited.get(ip) ?? 0) >= REFUSAL_AUDIT_EVERY_MS) {
      audited.set(ip, now);
      await appendAudit(ctx.db, {
        actorType: "anonymous",
        action: "worker.socket.open",
        outcome: "refused:rate_limited",
        requestId: requestId(),
        ip,
        details: { pendingSockets: admission.pending(ip), waitingSockets: admission.waiting(ip) },
      }).catch((error: unknown) => app.log.warn({ err: error }, "audit append failed"));
    }
    return new IgnisError(
      "rate_limited",
      "too many worker sockets from this address are still in their handshake",
      {
        details: { retryAfterSeconds: PENDING_CAP_RETRY_AFTER_SECONDS },
      },
    );
  };

  /** Hands an upgraded socket to the gateway; its place is given back when the session is greeted. */
  const opened = (socket: WebSocket, ip: string, authenticated: Place) => {
    // The gateway greets an authenticated session with `session.hello` (protocol v1: challenge, auth, hello):
    // from then on the socket no longer counts against its address. Only the first frames are looked at.
    const send = socket.send.bind(socket);
    let looked = 0;
    socket.send = ((data: unknown, ...rest: unknown[]) => {
      if (looked < 4 && typeof data === "string") {
        looked += 1;
        if (data.includes(HELLO)) {
          looked = 4;
          authenticated();
        }
      }
      return (send as (...args: unknown[]) => void)(data, ...rest);
    }) as typeof socket.send;
    ctx.gateway.accept(socket, { ip });
  };

  /**
   * Holds an admitted upgrade until its turn in the pacer's queue. While it waits it keeps its place among its
   * address's sockets in their handshake (so one address cannot fill the queue) and the server's closing ends it;
   * false when the opener left (or the server closed) first.
   */
  const waitTurn = (socket: Duplex, delayMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      ctx.metrics.workerSocketsQueued.inc();
      queued.add(socket);
      const settle = (turnCame: boolean) => {
        clearTimeout(timer);
        socket.off("end", left);
        socket.off("close", left);
        queued.delete(socket);
        resolve(turnCame && !socket.destroyed);
      };
      // The server's sockets are half-open ones: an opener that leaves is seen as `end`, and its socket is ended.
      const left = () => {
        settle(false);
        socket.destroy();
      };
      const timer = setTimeout(() => settle(true), delayMs);
      socket.once("end", left);
      socket.once("close", left);
    });

  const upgradeWorker = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const startedAt = process.hrtime.bigint();
    const ip = addressOf(request);
    if (!isWebSocketHandshake(request)) {
      // `ws` refuses it (400, or 405 for another method) and closes the socket; the callback never runs.
      workers.handleUpgrade(request, socket, head, () => socket.destroy());
      observe(ip, request.method === "GET" ? 400 : 405, startedAt);
      return;
    }
    // The id is made only for a refusal: its audit record and its answer name the same one.
    let id: string | undefined;
    const requestId = () => (id ??= requestIdOf(request));
    const place = await placeFor(ip, socket, requestId);
    if (place === undefined) return;
    if (place instanceof IgnisError) {
      observe(ip, refuse(socket, place, requestId()), startedAt);
      return;
    }
    const turn = pacer.admit(Date.now());
    if (!turn.admitted) {
      place();
      ctx.metrics.workerSocketsRefused.inc({ reason: "server_busy" });
      const busy = new IgnisError(
        "server_busy",
        "the server is admitting sessions in turns; retry after Retry-After",
        {
          details: { retryAfterSeconds: turn.retryAfterSeconds },
        },
      );
      observe(ip, refuse(socket, busy, requestId()), startedAt);
      return;
    }
    // A socket that leaves while waiting is destroyed, which gives its place back.
    if (turn.delayMs > 0 && !(await waitTurn(socket, turn.delayMs))) return;
    // Corked, the 101 answer and the session's challenge (sent as the gateway takes the socket, in this same
    // call: no verifyClient) leave in one write instead of two.
    socket.cork();
    workers.handleUpgrade(request, socket, head, (ws) => {
      observe(ip, 101, startedAt);
      opened(ws, ip, place);
    });
    socket.uncork();
  };

  // Node takes the socket's error listener away before it emits `upgrade`: until `ws` owns the socket (it adds
  // its own), a client that resets mid-upgrade must not become an uncaught error.
  const guard = function (this: Duplex) {
    this.destroy();
  };
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? "").split("?")[0] !== WORKER_SESSION_PATH) {
      routed.emit("upgrade", request, socket, head);
      return;
    }
    socket.on("error", guard);
    upgradeWorker(request, socket, head)
      .catch((error: unknown) => {
        app.log.warn({ err: error }, "worker upgrade failed");
        socket.destroy();
      })
      .finally(() => socket.off("error", guard));
  };
  app.server.on("upgrade", onUpgrade);
  app.addHook("preClose", (done) => {
    app.server.off("upgrade", onUpgrade);
    // The gateway ends authenticated sessions itself (1001); these are sockets still in their handshake or
    // waiting for their turn.
    for (const socket of queued) socket.destroy();
    for (const client of workers.clients) client.terminate();
    workers.close(() => done());
  });

  app.get(
    WORKER_SESSION_PATH,
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["worker"],
        summary: "Worker session (WebSocket): challenge, signed hello, heartbeats",
        description:
          "Open as a WebSocket (protocol v1, docs/worker-sessions.md). A plain GET answers 426 upgrade_required.",
      },
    },
    (request, reply) =>
      sendProblem(
        reply,
        request,
        new IgnisError("upgrade_required", "open this path as a WebSocket (the Ignis worker does)"),
      ),
  );
}
