import { EnrollBody, EnrollResponse, WORKER_SESSION_PATH } from "@ignis/protocol";
import { enrollDevice } from "../../devices/enroll.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

/**
 * `POST /v1/enrollments`: a worker trades a single-use code for a device id. The code is the credential, so
 * the route is public; it is rate-limited (class `enroll`) and audited, refusals included.
 */
export function deviceEnrollmentRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/enrollments",
    {
      config: {
        meta: { access: "public", action: "device.enroll", objectType: "device", rateClass: "enroll" },
      },
      schema: {
        tags: ["devices"],
        summary:
          "Enroll a worker: code, its new Ed25519 public key, its hardware claim, a signature over all three",
        body: EnrollBody,
        response: { 201: EnrollResponse },
      },
    },
    async (request, reply) => {
      reply.code(201);
      const enrolled = await auditedWrite(ctx, request, reply, async (trx) => {
        const made = await enrollDevice(trx, request.body);
        request.auditObjectId = made.deviceId;
        request.auditDetails = {
          ownerId: made.ownerId,
          keyId: made.keyId,
          profile: request.body.hardware.profile,
          gpu: request.body.hardware.gpu,
        };
        return made;
      });
      return { deviceId: enrolled.deviceId, keyId: enrolled.keyId, sessionPath: WORKER_SESSION_PATH };
    },
  );
}
