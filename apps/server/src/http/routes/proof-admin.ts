import {
  ChallengeListQuery,
  ChallengePage,
  ChallengeTriggerView,
  IgnisError,
  ProofReleaseBody,
  ProofReleaseView,
} from "@ignis/protocol";
import { z } from "zod";
import { findDevice } from "../../devices/device-record.js";
import { authorize } from "../../identity/policy.js";
import { listChallenges } from "../../proof/challenge-store.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

// Any string is accepted: a malformed id and an unknown device both get the same 404.
const DeviceParams = z.object({ deviceId: z.string().max(200) });

/** Admin proof-of-GPU routes: a device's challenges, a challenge on demand, and clearing a failed device. */
export function proofAdminRoutes(app: App, ctx: AppContext): void {
  const existing = async (deviceId: string) => {
    const device = await findDevice(ctx.db, deviceId);
    if (!device) throw new IgnisError("not_found", "no such device");
    return device;
  };

  app.get(
    "/v1/admin/devices/:deviceId/challenges",
    {
      config: {
        meta: { access: "user", action: "admin.proof.read", objectType: "device", objectParam: "deviceId" },
      },
      schema: {
        tags: ["admin"],
        summary: "A device's proof-of-GPU challenges with sizes, timings and verdicts, newest first",
        params: DeviceParams,
        querystring: ChallengeListQuery,
        response: { 200: ChallengePage },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.proof.read");
      const device = await existing(request.params.deviceId);
      const items = await listChallenges(ctx.db, device.id, request.query);
      const last = items.at(-1);
      return { items, nextCursor: items.length === request.query.limit && last ? last.id : null };
    },
  );

  app.post(
    "/v1/admin/devices/:deviceId/challenges",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.proof.challenge",
          objectType: "device",
          objectParam: "deviceId",
        },
      },
      schema: {
        tags: ["admin"],
        summary: "Challenge a connected device now (not while it runs a customer's job)",
        params: DeviceParams,
        response: { 202: ChallengeTriggerView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.proof.challenge");
      const device = await existing(request.params.deviceId);
      await ctx.proof.checkChallengeable(device.id);
      reply.code(202);
      // The order is on the record before the device hears of it. Should the device drop off in between, the
      // refusal gets a record of its own under the same request id.
      await auditedWrite(ctx, request, reply, async () => {
        request.auditDetails = { ordered: true };
      });
      const result = await ctx.proof.challengeNow(device.id);
      return { deviceId: device.id, ...result };
    },
  );

  app.post(
    "/v1/admin/devices/:deviceId/proof-release",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.proof.release",
          objectType: "device",
          objectParam: "deviceId",
        },
      },
      schema: {
        tags: ["admin"],
        summary:
          "After review, clear a device that failed proof of GPU: lift its quarantine and challenge it again",
        params: DeviceParams,
        body: ProofReleaseBody,
        response: { 200: ProofReleaseView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.proof.release");
      const device = await existing(request.params.deviceId);
      const adminId = request.actor.userId;
      const { cleared, after } = await auditedWrite(ctx, request, reply, async (trx) => {
        const done = await ctx.proof.release(device.id, adminId, request.body?.note ?? null, trx);
        const now = (await findDevice(trx, device.id))!;
        request.auditDetails = {
          cleared: done.cleared,
          before: { status: device.status, verification: device.verification },
          after: { status: now.status, verification: now.verification },
        };
        return { cleared: done.cleared, after: now };
      });
      if (cleared) await ctx.proof.challengeAgain(device.id);
      return { deviceId: device.id, verification: after.verification, status: after.status, cleared };
    },
  );
}
