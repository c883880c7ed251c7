import { CreateSeasonBody, SeasonView } from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import { endSeason } from "../../rewards/season-lifecycle.js";
import { createSeason, listSeasons, type Season } from "../../rewards/seasons.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

/** A season as the public and admins see it. */
export function seasonView(season: Season): SeasonView {
  return {
    id: season.id,
    name: season.name,
    startsAt: season.startsAt.toISOString(),
    endsAt: season.endsAt.toISOString(),
    poolPerEpoch: season.poolPerEpoch.toString(),
    weights: season.weights,
    minUpMinutes: season.minUpMinutes,
    createdAt: season.createdAt.toISOString(),
  };
}

const SeasonParams = z.object({ seasonId: z.string().regex(/^ssn_[a-z0-9]{26}$/) });

/** Admin routes for reward seasons: create one, end one early. */
export function rewardAdminRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/admin/rewards/seasons",
    {
      config: { meta: { access: "user", action: "admin.rewards.season.create", objectType: "season" } },
      schema: {
        tags: ["admin", "rewards"],
        summary: "Create a reward season (no overlap with another; a weight for every hardware profile)",
        body: CreateSeasonBody,
        response: { 201: SeasonView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.rewards.season.create");
      const createdBy = request.actor.userId;
      reply.code(201);
      const season = await auditedWrite(ctx, request, reply, async (trx) => {
        const created = await createSeason(trx, request.body, {
          knownProfiles: ctx.rewards.knownProfiles,
          epochSeconds: ctx.rewards.timing.epochSeconds,
          createdBy,
        });
        request.auditObjectId = created.id;
        request.auditDetails = { name: created.name, poolPerEpoch: request.body.poolPerEpoch };
        return created;
      });
      return seasonView(season);
    },
  );

  app.post(
    "/v1/admin/rewards/seasons/:seasonId/end",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.rewards.season.end",
          objectType: "season",
          objectParam: "seasonId",
        },
      },
      schema: {
        tags: ["admin", "rewards"],
        summary: "End a season early (at a future time), so that another season can follow it",
        params: SeasonParams,
        body: z.strictObject({ at: z.iso.datetime({ offset: true }) }),
        response: { 200: SeasonView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.rewards.season.end");
      await auditedWrite(ctx, request, reply, async (trx) => {
        const endsAt = await endSeason(trx, request.params.seasonId, Date.parse(request.body.at), {
          epochSeconds: ctx.rewards.timing.epochSeconds,
          nowMs: ctx.rewards.now(),
        });
        request.auditDetails = { endsAt: endsAt.toISOString() };
      });
      const season = (await listSeasons(ctx.db)).find((s) => s.id === request.params.seasonId)!;
      return seasonView(season);
    },
  );
}
