import fastifyWebsocket from "@fastify/websocket";
import { MAX_WORKER_MESSAGE_BYTES, WORKER_SESSION_PATH } from "@ignis/protocol";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/**
 * The worker WebSocket. Paths under /v1/worker/ skip the HTTP credential pipeline: the session authenticates
 * in-band with the device key (gateway/handshake.ts). Frames above the protocol's cap close the socket (1009);
 * compression is off, which keeps per-session memory small.
 */
export async function workerSocketRoutes(app: App, ctx: AppContext): Promise<void> {
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_WORKER_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: true },
  });
  app.get(
    WORKER_SESSION_PATH,
    {
      websocket: true,
      config: { meta: { access: "public" } },
      schema: {
        tags: ["worker"],
        summary: "Worker session (WebSocket): challenge, signed hello, heartbeats",
      },
    },
    (socket, request) => ctx.gateway.accept(socket, { ip: request.ip }),
  );
}
