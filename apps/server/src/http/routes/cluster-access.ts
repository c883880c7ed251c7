import { AccessParams, AccessPort, ExecQuery, ForwardQuery, IgnisError, Problem } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { StreamRequest } from "../../access/job-streams.js";
import { actorId, credentialId } from "../../identity/actor.js";
import { authorize } from "../../identity/policy.js";
import { findCluster } from "../../market/cluster-view.js";
import { type RunningRank, runningRank } from "../../market/rank-job.js";
import type { App } from "../app.js";
import { sendProblem } from "../app.js";
import type { AppContext } from "../context.js";

/** What the checks before the upgrade found: the rank's job and what to open in it. */
interface AccessPlan {
  target: RunningRank;
  request: StreamRequest;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by an access route's checks before the WebSocket upgrade. */
    accessPlan: AccessPlan | undefined;
  }
}

const refusals = {
  400: Problem.describe(
    "rank_out_of_range, invalid_port, validation_failed, or a plain GET (not an upgrade)",
  ),
  401: Problem.describe("unauthenticated"),
  403: Problem.describe("insufficient_scope or writes_frozen"),
  404: Problem.describe("no such cluster, or it is not the caller's (an admin's included)"),
  409: Problem.describe("cluster_not_running"),
  426: Problem.describe("upgrade_required: every check passed, but the request was a plain GET"),
  429: Problem.describe("rate_limited or too_many_streams"),
};

/**
 * Getting into a rented job: `exec` runs a command (a shell by default) in a rank's job container and `forward`
 * connects to a port inside the job, both as WebSockets carried through the control plane over the device's
 * worker session. Only the cluster's customer may open them (not an admin, not the supplier): every check runs
 * before the upgrade, so a refusal is a plain problem+json answer, audited, and nothing is opened.
 */
export function clusterAccessRoutes(app: App, ctx: AppContext): void {
  app.decorateRequest("accessPlan", undefined);

  const check = async (
    request: FastifyRequest<{ Params: { clusterId: string; rank: string } }>,
    reply: FastifyReply,
    plan: () => StreamRequest,
  ) => {
    try {
      const cluster = await findCluster(ctx.db, request.params.clusterId);
      authorize(request.actor, "cluster.access", cluster ? { ownerId: cluster.customer_id } : null);
      const request_ = plan();
      const target = await runningRank(ctx.db, cluster!, request.params.rank);
      ctx.streams.assertCapacity(target.clusterId);
      request.auditDetails = {
        rank: target.rank,
        kind: request_.kind,
        ...(request_.kind === "forward" ? { port: request_.port } : {}),
      };
      request.accessPlan = { target, request: request_ };
    } catch (error) {
      const ignis =
        error instanceof IgnisError
          ? error
          : new IgnisError("internal", "could not check the request", { cause: error });
      if (ignis.code === "internal") request.log.error({ err: error }, "access check failed");
      return sendProblem(reply, request, ignis);
    }
    if (!request.ws) {
      return sendProblem(
        reply,
        request,
        new IgnisError(
          "upgrade_required",
          "every check passed; open this route as a WebSocket (ignis clusters ssh / port-forward)",
        ),
      );
    }
    return undefined;
  };

  const open = (socket: import("ws").WebSocket, request: FastifyRequest) => {
    const plan = request.accessPlan;
    if (!plan) return socket.close(1011, "internal");
    ctx.streams.open(socket, plan.target, plan.request, {
      actorType: "user",
      actorId: actorId(request.actor),
      credentialId: credentialId(request.actor),
      ip: request.ip,
      requestId: request.id,
    });
  };

  app.route({
    method: "GET",
    url: "/v1/clusters/:clusterId/ranks/:rank/exec",
    config: {
      meta: {
        access: "user",
        action: "cluster.access",
        objectType: "cluster",
        objectParam: "clusterId",
        rateClass: "write",
      },
    },
    schema: {
      tags: ["clusters"],
      operationId: "execInClusterRank",
      summary:
        "WebSocket: run a command (a shell by default) in a rank's job container; the cluster's customer only",
      description:
        "Upgrade to a WebSocket. Binary frames from the client are stdin; binary frames from the server are one " +
        "channel byte (1 stdout, 2 stderr) and the bytes; text frames are control messages: `{type:eof}` from " +
        "the client, `{type:exit,exitCode}` or `{type:error,code,message}` from the server before it closes.",
      security: [{ bearer: [] }],
      params: AccessParams,
      querystring: ExecQuery,
      response: refusals,
    },
    preHandler: (request, reply) =>
      check(request, reply, () => ({
        kind: "exec",
        argv: request.query.argv ?? ["/bin/sh"],
        tty: request.query.tty === "1" || request.query.tty === "true",
        cols: request.query.cols,
        rows: request.query.rows,
      })),
    handler: async () => undefined,
    wsHandler: open,
  });

  app.route({
    method: "GET",
    url: "/v1/clusters/:clusterId/ranks/:rank/forward",
    config: {
      meta: {
        access: "user",
        action: "cluster.access",
        objectType: "cluster",
        objectParam: "clusterId",
        rateClass: "write",
      },
    },
    schema: {
      tags: ["clusters"],
      operationId: "forwardToClusterRank",
      summary:
        "WebSocket: a TCP connection to 127.0.0.1:PORT inside a rank's job; the cluster's customer only",
      description:
        "Upgrade to a WebSocket. Binary frames carry the connection's bytes both ways (from the server, after one " +
        "channel byte, 1); `{type:eof}` half-closes; the server closes the socket when the connection ends.",
      security: [{ bearer: [] }],
      params: AccessParams,
      querystring: ForwardQuery,
      response: refusals,
    },
    preHandler: (request, reply) =>
      check(request, reply, () => {
        const port = AccessPort.safeParse(request.query.port);
        if (!port.success) {
          throw new IgnisError("invalid_port", "the port must be a whole number from 1 to 65535", {
            details: { allowed: "1-65535" },
          });
        }
        return { kind: "forward", port: port.data };
      }),
    handler: async () => undefined,
    wsHandler: open,
  });
}
