import {
  AppealSlashBody,
  CreateStakeBody,
  IgnisError,
  SlashList,
  SlashParams,
  SlashQuery,
  SlashView,
  StakeList,
  StakeParams,
  StakeView,
} from "@ignis/protocol";
import { findDevice } from "../../devices/device-record.js";
import { authorize } from "../../identity/policy.js";
import { balanceOf } from "../../ledger/balances.js";
import { parseMicroUnits } from "../../market/billing.js";
import { appealSlash, findSlash } from "../../stakes/appeal.js";
import { listSlashes } from "../../stakes/slash-views.js";
import { earningsAccount } from "../../stakes/stake-settings.js";
import { bondStake, findStake, listStakes, type Stake, unbondStake } from "../../stakes/stakes.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function stakeView(s: Stake): StakeView {
  return {
    id: s.id,
    deviceId: s.deviceId,
    amount: s.amount.toString(),
    bonded: s.bonded.toString(),
    status: s.status,
    createdAt: s.createdAt.toISOString(),
    unbondRequestedAt: iso(s.unbondRequestedAt),
    releaseAt: iso(s.releaseAt),
    releasedAt: iso(s.releasedAt),
    unit: "micro",
  };
}

/** Stakes (a supplier's, for their own devices) and slashes (anyone reads them; a device's owner appeals). */
export function stakeRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/stakes",
    {
      config: { meta: { access: "user", action: "stake.create", objectType: "device" } },
      schema: {
        tags: ["stakes"],
        summary: "Bonds micro-units of the caller's earnings as stake for one of their devices",
        body: CreateStakeBody,
        response: { 201: StakeView },
      },
    },
    async (request, reply) => {
      const amount = parseMicroUnits(request.body.amount, "invalid_amount");
      const device = await findDevice(ctx.db, request.body.deviceId);
      authorize(request.actor, "stake.create", device ? { ownerId: device.ownerId } : null);
      if (!device) throw new IgnisError("not_found", "no such object");
      const ownerId = request.actor.userId;
      reply.code(201);
      const stake = await auditedWrite(ctx, request, reply, async (trx) => {
        request.auditObjectId = device.id;
        const made = await bondStake(trx, ctx.stakes.settings, {
          ownerId,
          deviceId: device.id,
          amount,
          at: ctx.stakes.now(),
        });
        request.auditDetails = { stakeId: made.id, amount: amount.toString() };
        return made;
      });
      return stakeView(stake);
    },
  );

  app.get(
    "/v1/stakes",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["stakes"],
        summary: "The caller's stakes, newest first, with the earnings balance stakes are paid from",
        response: { 200: StakeList },
      },
    },
    async (request) => {
      authorize(request.actor, "stake.list");
      // Due releases are paid before reading, so the list never shows a stake whose time has come as locked.
      await ctx.stakes.releaseDue();
      const userId = request.actor.userId;
      const [stakes, balance] = await Promise.all([
        listStakes(ctx.db, userId),
        balanceOf(ctx.db, earningsAccount(userId)),
      ]);
      const { perGpu, slashBps, unbondSeconds, pendingSeconds } = ctx.stakes.settings;
      return {
        items: stakes.map(stakeView),
        earningsBalance: balance.toString(),
        perGpu: perGpu.toString(),
        slashBps,
        unbondSeconds,
        pendingSeconds,
        unit: "micro" as const,
      };
    },
  );

  app.post(
    "/v1/stakes/:stakeId/unbond",
    {
      config: {
        meta: { access: "user", action: "stake.unbond", objectType: "stake", objectParam: "stakeId" },
      },
      schema: {
        tags: ["stakes"],
        summary: "Starts unbonding a stake: it stops counting now and returns after IGNIS_UNBOND_SECONDS",
        params: StakeParams,
        response: { 200: StakeView },
      },
    },
    async (request, reply) => {
      const stake = await findStake(ctx.db, request.params.stakeId);
      authorize(request.actor, "stake.unbond", stake ? { ownerId: stake.ownerId } : null);
      if (!stake) throw new IgnisError("not_found", "no such object");
      const unbonding = await auditedWrite(ctx, request, reply, async (trx) => {
        const changed = await unbondStake(trx, ctx.stakes.settings, {
          stakeId: stake.id,
          at: ctx.stakes.now(),
        });
        request.auditDetails = { deviceId: stake.deviceId, releaseAt: iso(changed.releaseAt) };
        return changed;
      });
      return stakeView(unbonding);
    },
  );

  app.get(
    "/v1/slashes",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["stakes"],
        summary: "Slashes, newest first, with the evidence anyone can recheck (no owner identity)",
        querystring: SlashQuery,
        response: { 200: SlashList },
      },
    },
    async (request) => listSlashes(ctx.db, request.query),
  );

  app.post(
    "/v1/slashes/:slashId/appeal",
    {
      config: {
        meta: { access: "user", action: "slash.appeal", objectType: "slash", objectParam: "slashId" },
      },
      schema: {
        tags: ["stakes"],
        summary: "Appeals a slash of the caller's device: a re-proof follows, and a pass refunds the slash",
        params: SlashParams,
        body: AppealSlashBody,
        response: { 202: SlashView },
      },
    },
    async (request, reply) => {
      const slash = await findSlash(ctx.db, request.params.slashId);
      authorize(request.actor, "slash.appeal", slash ? { ownerId: slash.ownerId } : null);
      if (!slash) throw new IgnisError("not_found", "no such object");
      reply.code(202);
      await auditedWrite(ctx, request, reply, async (trx) => {
        request.auditDetails = { deviceId: slash.deviceId, reason: request.body.reason };
        return appealSlash(trx, { slashId: slash.id, reason: request.body.reason, at: ctx.stakes.now() });
      });
      // The re-proof: at once if the device is connected (here or on its replica), else when it next connects.
      await ctx.proof.challengeAgain(slash.deviceId).catch(() => undefined);
      const { items } = await listSlashes(ctx.db, { deviceId: slash.deviceId });
      const view = items.find((s) => s.id === slash.id);
      if (!view) throw new IgnisError("internal", "the appealed slash vanished");
      return view;
    },
  );
}
