import {
  EarningsQuery,
  EarningsView,
  EpochNumber,
  PublicRewardEpoch,
  RewardEpochList,
  RewardEpochListQuery,
  RewardProof,
  RewardProofParams,
  SeasonList,
} from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import { getEarnings } from "../../rewards/earnings.js";
import { getRewardEpoch, getRewardProof, listClosedEpochs } from "../../rewards/reward-views.js";
import { listSeasons } from "../../rewards/seasons.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";
import { seasonView } from "./rewards-admin.js";

/** Public reward epochs, proofs and seasons, and a supplier's own earnings. */
export function rewardRoutes(app: App, ctx: AppContext): void {
  const { rewards } = ctx;

  app.get(
    "/v1/rewards/epochs",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["rewards"],
        summary: "Closed reward epochs with their Merkle roots, newest first",
        querystring: RewardEpochListQuery,
        response: { 200: RewardEpochList },
      },
    },
    async (request) => listClosedEpochs(ctx.db, request.query),
  );

  app.get(
    "/v1/rewards/epochs/:epoch",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["rewards"],
        summary: "One reward epoch: open, finalizing, or closed with its root, total and devices",
        params: z.object({ epoch: EpochNumber }),
        response: { 200: PublicRewardEpoch },
      },
    },
    async (request) => getRewardEpoch(ctx.db, request.params.epoch, rewards.timing, rewards.now()),
  );

  app.get(
    "/v1/rewards/epochs/:epoch/proofs/:deviceId",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["rewards"],
        summary:
          "A device's leaf and Merkle proof in a closed epoch (StandardMerkleTree.verify accepts them)",
        params: RewardProofParams,
        response: { 200: RewardProof },
      },
    },
    async (request) =>
      getRewardProof(ctx.db, request.params.epoch, request.params.deviceId, rewards.timing, rewards.now()),
  );

  app.get(
    "/v1/rewards/seasons",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["rewards"],
        summary: "Reward seasons: pools, weights and minimum up-minutes",
        response: { 200: SeasonList },
      },
    },
    async () => ({ items: (await listSeasons(ctx.db)).map(seasonView) }),
  );

  app.get(
    "/v1/rewards/earnings",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["rewards"],
        summary:
          "The caller's rewards per device and per epoch, and their earnings balance (admins: any user)",
        querystring: EarningsQuery,
        response: { 200: EarningsView },
      },
    },
    async (request) => {
      const { actor } = request;
      authorize(actor, "earnings.read");
      let userId = actor.userId;
      if (request.query.userId && request.query.userId !== actor.userId) {
        authorize(actor, "admin.earnings.read");
        userId = request.query.userId;
      }
      if (request.query.deviceId) {
        const device = await ctx.db
          .selectFrom("devices")
          .select("owner_id")
          .where("id", "=", request.query.deviceId)
          .executeTakeFirst();
        // The device must belong to the user whose earnings are read (or the caller is an admin).
        authorize(
          actor,
          "device.read",
          device && device.owner_id === userId ? { ownerId: device.owner_id } : null,
        );
      }
      return getEarnings(ctx.db, {
        userId,
        deviceId: request.query.deviceId,
        cursor: request.query.cursor,
        limit: request.query.limit,
      });
    },
  );
}
