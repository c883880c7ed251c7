import {
  ClusterList,
  ClusterLogs,
  ClusterNetworkView,
  ClusterView,
  CreateClusterBody,
  Cursor,
  PageSize,
} from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import { cancelCluster } from "../../market/cancel-cluster.js";
import { clusterLogs, listClusters } from "../../market/cluster-queries.js";
import { type ClusterRow, clusterViews, findCluster } from "../../market/cluster-view.js";
import { createCluster } from "../../market/create-cluster.js";
import { clusterNetwork } from "../../mesh/mesh-links.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

// Any string is accepted as an id: a malformed id, a missing cluster and another customer's cluster all get the
// same 404, so answers say nothing about which ids exist.
const ClusterParams = z.object({ clusterId: z.string().max(200) });

/** Customers rent clusters, follow their jobs and logs, and cancel them. */
export function clusterRoutes(app: App, ctx: AppContext): void {
  const market = ctx.market.context;
  const owned = (c: ClusterRow | undefined) => (c ? { ownerId: c.customer_id } : null);
  const viewOf = async (c: ClusterRow) => (await clusterViews(ctx.db, [c]))[0]!;
  // The archive travels base64 inside the JSON body: allow for its encoding and the rest of the spec.
  const bodyLimit = Math.ceil((ctx.config.market.archiveMaxBytes * 4) / 3) + 256 * 1024;

  app.post(
    "/v1/clusters",
    {
      bodyLimit,
      config: { meta: { access: "user", action: "cluster.create", objectType: "cluster" } },
      schema: {
        tags: ["clusters"],
        summary: "Rent `count` devices of a GPU model for `hours` and run a job on each",
        body: CreateClusterBody,
        response: { 201: ClusterView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "cluster.create");
      reply.code(201);
      const cluster = await createCluster(market, request.actor.userId, request.body, (work) =>
        auditedWrite(ctx, request, reply, async (trx) => {
          const created = await work(trx);
          request.auditObjectId = created.id;
          request.auditDetails = {
            gpuModel: created.gpu_model,
            count: created.count,
            hours: created.hours,
            held: created.held,
          };
          return created;
        }),
      );
      return viewOf(cluster);
    },
  );

  app.get(
    "/v1/clusters",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["clusters"],
        summary: "The caller's clusters, newest first",
        querystring: z.object({ cursor: Cursor.optional(), limit: PageSize }),
        response: { 200: ClusterList },
      },
    },
    async (request) => {
      authorize(request.actor, "cluster.list");
      const page = await listClusters(
        ctx.db,
        request.actor.userId,
        request.query.limit,
        request.query.cursor,
      );
      return { items: await clusterViews(ctx.db, page.items), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/clusters/:clusterId",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["clusters"],
        summary: "A cluster with its devices, job states, metering and escrow (its customer or an admin)",
        params: ClusterParams,
        response: { 200: ClusterView },
      },
    },
    async (request) => {
      const cluster = await findCluster(ctx.db, request.params.clusterId);
      authorize(request.actor, "cluster.read", owned(cluster));
      return viewOf(cluster!);
    },
  );

  app.post(
    "/v1/clusters/:clusterId/cancel",
    {
      config: {
        meta: { access: "user", action: "cluster.cancel", objectType: "cluster", objectParam: "clusterId" },
      },
      schema: {
        tags: ["clusters"],
        summary: "Stops every job, settles the minutes used and refunds the rest",
        params: ClusterParams,
        response: { 200: ClusterView },
      },
    },
    async (request, reply) => {
      const cluster = await findCluster(ctx.db, request.params.clusterId);
      authorize(request.actor, "cluster.cancel", owned(cluster));
      const after = await cancelCluster(market, cluster!.id, (work) =>
        auditedWrite(ctx, request, reply, async (trx) => {
          const cancelled = await work(trx);
          request.auditDetails = { refunded: cancelled.refunded, charged: cancelled.charged };
          return cancelled;
        }),
      );
      return viewOf(after);
    },
  );

  app.get(
    "/v1/clusters/:clusterId/logs",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["clusters"],
        summary: "The jobs' output in arrival order; pass nextCursor back as `after` to follow",
        params: ClusterParams,
        querystring: z.object({
          after: z.string().max(20).optional(),
          rank: z.coerce.number().int().min(0).max(100_000).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(500),
        }),
        response: { 200: ClusterLogs },
      },
    },
    async (request) => {
      const cluster = await findCluster(ctx.db, request.params.clusterId);
      authorize(request.actor, "cluster.read", owned(cluster));
      return clusterLogs(ctx.db, cluster!.id, request.query);
    },
  );

  app.get(
    "/v1/clusters/:clusterId/network",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["clusters"],
        operationId: "getClusterNetwork",
        summary:
          "A running cluster's private overlay: each rank's overlay address and the links the ranks measured " +
          "(409 cluster_not_running once it ended, 409 mesh_unavailable when its devices have no overlay)",
        params: ClusterParams,
        response: { 200: ClusterNetworkView },
      },
    },
    async (request) => {
      const cluster = await findCluster(ctx.db, request.params.clusterId);
      authorize(request.actor, "cluster.read", owned(cluster));
      return clusterNetwork(ctx.db, cluster!);
    },
  );
}
