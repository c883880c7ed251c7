import { CreateKeyMigrationBody, IgnisError, KeyMigrationView } from "@ignis/protocol";
import { z } from "zod";
import { createKeyMigration, listKeyMigrations } from "../../devices/key-migrations.js";
import { authorize } from "../../identity/policy.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

/** Longest a fleet migration may run: old keys must not linger for months. */
const MAX_MIGRATION_DAYS = 90;

/** Fleet key migrations: "every device rotates its key by T", announced at once to connected devices. */
export function deviceKeyMigrationRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/admin/key-migrations",
    {
      config: { meta: { access: "user", action: "admin.key-migration.create", objectType: "key_migration" } },
      schema: {
        tags: ["admin"],
        summary: "Ask every device to rotate its key by `rotateBy`; keys not rotated by then stop working",
        body: CreateKeyMigrationBody,
        response: { 201: KeyMigrationView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.key-migration.create");
      const rotateBy = new Date(request.body.rotateBy);
      const now = Date.now();
      if (rotateBy.getTime() <= now || rotateBy.getTime() > now + MAX_MIGRATION_DAYS * 86_400_000) {
        throw new IgnisError("validation_failed", `rotateBy must be in the next ${MAX_MIGRATION_DAYS} days`, {
          details: { errors: [{ path: "body.rotateBy", message: "out of range" }] },
        });
      }
      const createdBy = request.actor.userId;
      reply.code(201);
      const migration = await auditedWrite(ctx, request, reply, async (trx) => {
        const created = await createKeyMigration(trx, { rotateBy, createdBy, note: request.body.note });
        request.auditObjectId = created.id;
        request.auditDetails = { rotateBy: rotateBy.toISOString() };
        return created;
      });
      // Announced once committed: no device hears of a migration that rolled back.
      const devicesNotified = await ctx.gateway.announceKeyMigration(migration);
      return {
        id: migration.id,
        startedAt: migration.startedAt.toISOString(),
        rotateBy: migration.rotateBy.toISOString(),
        note: migration.note,
        devicesNotified,
      };
    },
  );

  app.get(
    "/v1/admin/key-migrations",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin"],
        summary: "Fleet key migrations, newest first, with how many devices still hold only older keys",
        response: { 200: z.object({ items: z.array(KeyMigrationView) }) },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.devices.read");
      const items = await listKeyMigrations(ctx.db);
      return {
        items: items.map((m) => ({
          id: m.id,
          startedAt: m.startedAt.toISOString(),
          rotateBy: m.rotateBy.toISOString(),
          note: m.note,
          devicesPending: m.devicesPending,
        })),
      };
    },
  );
}
