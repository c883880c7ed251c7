import {
  CreateEnrollmentCodeBody,
  Cursor,
  DeviceView,
  EnrollmentCodeView,
  PageSize,
  UpdateDeviceBody,
} from "@ignis/protocol";
import { z } from "zod";
import { findLink, linkView } from "../../../connectivity/link-store.js";
import {
  keysOfDevices,
  listOwnedDevices,
  setOwnerFields,
  toDeviceView,
} from "../../../devices/device-record.js";
import { createEnrollmentCode } from "../../../devices/enrollment-code.js";
import { latestRefusedSessions } from "../../../devices/refused-sessions.js";
import { revokeDevice } from "../../../devices/revoke.js";
import { countryInput } from "../../../geo/countries.js";
import { authorize } from "../../../identity/policy.js";
import { decidedChecks } from "../../../proof/challenge-store.js";
import { deviceMemoryProvenAt, memoryOf } from "../../../proof/memory-proof.js";
import { explainCheck } from "../../../proof/verdict-explanation.js";
import { deviceEligibility } from "../../../stakes/eligibility.js";
import type { App } from "../../app.js";
import { auditedWrite } from "../../audited-write.js";
import type { AppContext } from "../../context.js";
import { DeviceParams, ownedDevice, ownerView, reloadedOwnerView } from "./owned-device.js";

/** Enrollment codes and the owner's view of their devices: list, read, label, revoke. */
export function deviceRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/enrollment-codes",
    {
      config: {
        meta: {
          access: "user",
          action: "enrollment-code.create",
          objectType: "enrollment_code",
          rateClass: "enroll",
        },
      },
      schema: {
        tags: ["devices"],
        summary: "A single-use code (valid 15 minutes) to enroll one worker under the caller",
        body: CreateEnrollmentCodeBody,
        response: { 201: EnrollmentCodeView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "enrollment-code.create");
      const userId = request.actor.userId;
      reply.code(201);
      const { code, expiresAt } = await auditedWrite(ctx, request, reply, async (trx) => {
        const issued = await createEnrollmentCode(trx, userId);
        request.auditDetails = { expiresAt: issued.expiresAt.toISOString() };
        return issued;
      });
      return { code, expiresAt: expiresAt.toISOString() };
    },
  );

  app.get(
    "/v1/devices",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["devices"],
        summary: "The caller's own devices",
        querystring: z.object({ cursor: Cursor.optional(), limit: PageSize }),
        response: { 200: z.object({ items: z.array(DeviceView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      authorize(request.actor, "device.list");
      const { limit, cursor } = request.query;
      const devices = await listOwnedDevices(ctx.db, request.actor.userId, limit, cursor);
      const keys = await keysOfDevices(
        ctx.db,
        devices.map((d) => d.id),
      );
      const last = devices.at(-1);
      return {
        items: devices.map((d) => toDeviceView(d, keys.get(d.id) ?? [], ctx.gateway.isConnected(d.id))),
        nextCursor: devices.length === limit && last ? last.id : null,
      };
    },
  );

  app.get(
    "/v1/devices/:deviceId",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["devices"],
        summary: "The full record of one device (its owner or an admin)",
        params: DeviceParams,
        response: { 200: DeviceView },
      },
    },
    async (request) => {
      const device = await ownedDevice(ctx, request.actor, request.params.deviceId, "device.read");
      const [refused, checks, memoryProven] = await Promise.all([
        latestRefusedSessions(ctx.db, device.id),
        decidedChecks(ctx.db, device.id),
        deviceMemoryProvenAt(ctx.db, device.id),
      ]);
      const session = ctx.gateway.session(device.id);
      return {
        ...(await ownerView(ctx, device)),
        refusedSessions: refused.map((r) => ({ at: r.at.toISOString(), reason: r.reason })),
        link: linkView(await findLink(ctx.db, device.id), Date.now()),
        verificationHistory: checks.map(explainCheck),
        eligibility: await deviceEligibility(
          ctx.db,
          { ...ctx.stakes.settings, proofMaxAgeSeconds: ctx.config.proofMaxAgeSeconds },
          {
            ...device,
            gpuCount: device.gpu.count,
          },
        ),
        memory: {
          ...memoryOf({
            vramGb: device.gpu.vramGb,
            gpuCount: device.gpu.count,
            verification: device.verification,
            memoryProvenAt: memoryProven,
          }),
          workerProvesMemory: session ? session.supports("proof-vram") : null,
        },
      };
    },
  );

  app.patch(
    "/v1/devices/:deviceId",
    {
      config: {
        meta: { access: "user", action: "device.update", objectType: "device", objectParam: "deviceId" },
      },
      schema: {
        tags: ["devices"],
        summary:
          "Set the device's label and the country its owner declares (the only fields an owner may write)",
        params: DeviceParams,
        body: UpdateDeviceBody,
        response: { 200: DeviceView },
      },
    },
    async (request, reply) => {
      const device = await ownedDevice(ctx, request.actor, request.params.deviceId, "device.update");
      const { label, country } = request.body;
      const declaredCountry = country === undefined ? undefined : countryInput(country);
      const updated = await auditedWrite(ctx, request, reply, async (trx) => {
        const changed = await setOwnerFields(trx, device.id, {
          ...(label !== undefined ? { label } : {}),
          ...(declaredCountry !== undefined ? { declaredCountry } : {}),
        });
        request.auditDetails = {
          before: { label: device.label, declaredCountry: device.declaredCountry },
          after: { label: changed.label, declaredCountry: changed.declaredCountry },
        };
        return changed;
      });
      return ownerView(ctx, updated);
    },
  );

  app.post(
    "/v1/devices/:deviceId/revoke",
    {
      config: {
        meta: { access: "user", action: "device.revoke", objectType: "device", objectParam: "deviceId" },
      },
      schema: {
        tags: ["devices"],
        summary: "Revoke a device: its session closes now and its keys never work again",
        params: DeviceParams,
        response: { 200: DeviceView },
      },
    },
    async (request, reply) => {
      const device = await ownedDevice(ctx, request.actor, request.params.deviceId, "device.revoke");
      await auditedWrite(ctx, request, reply, async (trx) => {
        const changed = await revokeDevice(trx, device.id);
        request.auditDetails = { before: { status: device.status }, alreadyRevoked: !changed };
      });
      // The session closes once the revocation is committed, never for a revocation that rolled back.
      await ctx.gateway.disconnect(device.id, "device_revoked");
      return reloadedOwnerView(ctx, device.id);
    },
  );
}
