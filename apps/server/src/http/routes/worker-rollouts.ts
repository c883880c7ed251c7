import {
  CreateWorkerReleaseRequest,
  CreateWorkerRolloutRequest,
  IgnisError,
  UpdateWorkerRolloutRequest,
  WorkerReleaseView,
  WorkerRolloutView,
  WorkerVersion,
} from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import {
  createRollout,
  getRollout,
  listRollouts,
  rolloutView,
  updateRollout,
} from "../../upgrades/rollouts.js";
import { insertRelease, listReleases, releasePackage, releaseView } from "../../upgrades/worker-releases.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

/**
 * Signed worker releases and staged rollouts: admins upload a release and roll it out a share of the fleet at a
 * time; the package itself is public (it is signed, not secret) so workers fetch it with no credential.
 */
export function workerRolloutRoutes(app: App, ctx: AppContext): void {
  const RolloutParams = z.object({ rolloutId: z.string().regex(/^rol_[a-z2-7]{26}$/) });
  // The package travels base64 inside the JSON body.
  const bodyLimit = Math.ceil((ctx.config.worker.releaseMaxBytes * 4) / 3) + 64 * 1024;

  app.post(
    "/v1/admin/worker-releases",
    {
      bodyLimit,
      config: {
        meta: { access: "user", action: "admin.worker-release.create", objectType: "worker_release" },
      },
      schema: {
        tags: ["admin"],
        summary:
          "Upload a worker release: the package (base64 tarball) and the release key's detached signature",
        body: CreateWorkerReleaseRequest,
        response: { 201: WorkerReleaseView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.worker-release.create");
      const bytes = Buffer.from(request.body.packageBase64, "base64");
      if (bytes.length > ctx.config.worker.releaseMaxBytes) {
        throw new IgnisError(
          "validation_failed",
          "the package is larger than IGNIS_WORKER_RELEASE_MAX_BYTES",
          {
            details: { errors: [{ path: "body.packageBase64", message: "too large" }] },
          },
        );
      }
      const createdBy = request.actor.userId;
      reply.code(201);
      const release = await auditedWrite(ctx, request, reply, async (trx) => {
        const stored = await insertRelease(trx, {
          version: request.body.version,
          bytes,
          signature: request.body.signature,
          notes: request.body.notes,
          createdBy,
        });
        request.auditObjectId = stored.version;
        request.auditDetails = { sha256: stored.sha256, size: stored.size };
        return stored;
      });
      return releaseView(release);
    },
  );

  app.get(
    "/v1/admin/worker-releases",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin"],
        summary: "Stored worker releases, newest first",
        response: { 200: z.object({ items: z.array(WorkerReleaseView) }) },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.devices.read");
      return { items: (await listReleases(ctx.db)).map(releaseView) };
    },
  );

  app.get(
    "/v1/worker/releases/:version/package",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["devices"],
        summary:
          "A worker release's package (gzipped tarball); workers check its signature before installing",
        params: z.object({ version: WorkerVersion }),
      },
    },
    async (request, reply) => {
      const bytes = await releasePackage(ctx.db, request.params.version);
      if (!bytes) throw new IgnisError("not_found", "no such release");
      reply.header("content-type", "application/gzip");
      return reply.send(bytes);
    },
  );

  app.post(
    "/v1/admin/worker-rollouts",
    {
      config: {
        meta: { access: "user", action: "admin.worker-rollout.write", objectType: "worker_rollout" },
      },
      schema: {
        tags: ["admin"],
        summary:
          "Roll a release out to `percent` of the devices that update automatically; pauses on failures",
        body: CreateWorkerRolloutRequest,
        response: { 201: WorkerRolloutView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.worker-rollout.write");
      const createdBy = request.actor.userId;
      reply.code(201);
      const rollout = await auditedWrite(ctx, request, reply, async (trx) => {
        const created = await createRollout(trx, {
          ...request.body,
          createdBy,
          at: new Date(),
        });
        request.auditObjectId = created.id;
        request.auditDetails = { version: created.version, percent: created.percent };
        return created;
      });
      await ctx.rollouts.tick();
      return rolloutView(await getRollout(ctx.db, rollout.id));
    },
  );

  app.get(
    "/v1/admin/worker-rollouts",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin"],
        summary: "Worker rollouts, newest first, with offered, updated and failed devices",
        response: { 200: z.object({ items: z.array(WorkerRolloutView) }) },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.devices.read");
      return { items: (await listRollouts(ctx.db)).map(rolloutView) };
    },
  );

  app.get(
    "/v1/admin/worker-rollouts/:rolloutId",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin"],
        summary: "One worker rollout with its counts and why it paused",
        params: RolloutParams,
        response: { 200: WorkerRolloutView },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.devices.read");
      return rolloutView(await getRollout(ctx.db, request.params.rolloutId));
    },
  );

  app.patch(
    "/v1/admin/worker-rollouts/:rolloutId",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.worker-rollout.write",
          objectType: "worker_rollout",
          objectParam: "rolloutId",
        },
      },
      schema: {
        tags: ["admin"],
        summary: "Pause, resume, widen (`percent` only grows) or finish (`done`) a rollout",
        params: RolloutParams,
        body: UpdateWorkerRolloutRequest,
        response: { 200: WorkerRolloutView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.worker-rollout.write");
      const rollout = await auditedWrite(ctx, request, reply, async (trx) => {
        const updated = await updateRollout(trx, request.params.rolloutId, request.body, new Date());
        request.auditDetails = { ...request.body };
        return updated;
      });
      if (rollout.status === "running") await ctx.rollouts.tick();
      return rolloutView(await getRollout(ctx.db, rollout.id));
    },
  );
}
