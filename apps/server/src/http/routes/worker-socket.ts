import fastifyWebsocket from "@fastify/websocket";
import { IgnisError, MAX_WORKER_MESSAGE_BYTES, WORKER_SESSION_PATH } from "@ignis/protocol";
import { appendAudit } from "../../security/audit-log.js";
import { BoundedMap } from "../../security/signals.js";
import { createSocketAdmission } from "../../security/socket-admission.js";
import type { App } from "../app.js";
import { sendProblem } from "../app.js";
import type { AppContext } from "../context.js";

const HELLO = '"type":"session.hello"';

/** A flood of refused sockets from one address leaves one audit record a minute, not one per socket. */
const REFUSAL_AUDIT_EVERY_MS = 60_000;

/**
 * What an address over its cap of sockets in their handshake is told to wait. A handshake takes milliseconds, so
 * a slot frees almost at once: a GPU farm of hundreds of devices behind one NAT, all reconnecting after a rolling
 * restart, comes back in a few rounds of a second instead of losing a whole uptime slot each (the refusal itself
 * costs the server next to nothing, so a flooder gains nothing from the short wait).
 */
const PENDING_CAP_RETRY_AFTER_SECONDS = 1;

/**
 * The worker WebSocket. Paths under /v1/worker/ skip the HTTP credential pipeline: the session authenticates
 * in-band with the device key (gateway/handshake.ts), within the gateway's handshake deadline. Before the
 * upgrade, an address already holding its cap of sockets still in their handshake is refused with 429
 * (security/socket-admission.ts), and past the server-wide pace of handshakes (`IGNIS_HANDSHAKES_PER_SECOND`) an
 * opener is refused with 503 `server_busy` and a Retry-After spread over the refused demand (gateway/
 * handshake-pacer.ts), which workers honour: a restarted server admits its fleet in turns. Frames above the protocol's cap close the socket (1009); compression is off,
 * which keeps per-session memory small.
 */
export async function workerSocketRoutes(app: App, ctx: AppContext): Promise<void> {
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_WORKER_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: true },
  });
  const admission = createSocketAdmission();
  const audited = new BoundedMap<string, number>(10_000);
  const pacer = ctx.handshakes;
  app.get(
    WORKER_SESSION_PATH,
    {
      websocket: true,
      config: { meta: { access: "public" } },
      schema: {
        tags: ["worker"],
        summary: "Worker session (WebSocket): challenge, signed hello, heartbeats",
      },
      preValidation: async (request, reply) => {
        if (admission.mayOpen(request.ip)) {
          const turn = pacer.admit(Date.now());
          if (turn.admitted) return;
          ctx.metrics.workerSocketsRefused.inc({ reason: "server_busy" });
          return sendProblem(
            reply,
            request,
            new IgnisError(
              "server_busy",
              "the server is admitting sessions in turns; retry after Retry-After",
              {
                details: { retryAfterSeconds: turn.retryAfterSeconds },
              },
            ),
          );
        }
        const now = Date.now();
        if (now - (audited.get(request.ip) ?? 0) >= REFUSAL_AUDIT_EVERY_MS) {
          audited.set(request.ip, now);
          await appendAudit(ctx.db, {
            actorType: "anonymous",
            action: "worker.socket.open",
            outcome: "refused:rate_limited",
            requestId: request.id,
            ip: request.ip,
            details: { pendingSockets: admission.pending(request.ip) },
          }).catch((error: unknown) => request.log.warn({ err: error }, "audit append failed"));
        }
        return sendProblem(
          reply,
          request,
          new IgnisError(
            "rate_limited",
            "too many worker sockets from this address are still in their handshake",
            {
              details: { retryAfterSeconds: PENDING_CAP_RETRY_AFTER_SECONDS },
            },
          ),
        );
      },
    },
    (socket, request) => {
      const authenticated = admission.track(request.ip, socket);
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
      ctx.gateway.accept(socket, { ip: request.ip });
    },
  );
}
