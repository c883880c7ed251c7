import {
  AlertId,
  AlertListQuery,
  AlertReviewBody,
  AlertView,
  AuditRecordView,
  AuditSearchQuery,
  AuditVerificationView,
} from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import { listAlerts, toAlertView } from "../../security/alerts.js";
import { verifyAuditChain } from "../../security/audit-log.js";
import { searchAudit } from "../../security/audit-search.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

const AlertParams = z.object({ alertId: AlertId });

/** Admin security routes: alerts (list, acknowledge, release) and the audit log (search, verify). */
export function adminSecurityRoutes(app: App, ctx: AppContext): void {
  app.get(
    "/v1/admin/alerts",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin"],
        summary: "Security alerts, newest first",
        querystring: AlertListQuery,
        response: { 200: z.object({ items: z.array(AlertView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.alerts.read");
      const alerts = await listAlerts(ctx.db, request.query);
      const last = alerts.at(-1);
      return {
        items: alerts.map(toAlertView),
        nextCursor: alerts.length === request.query.limit && last ? last.id : null,
      };
    },
  );

  app.post(
    "/v1/admin/alerts/:alertId/acknowledge",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.alerts.acknowledge",
          objectType: "alert",
          objectParam: "alertId",
        },
      },
      schema: {
        tags: ["admin"],
        summary: "Mark an alert as seen; its containment stays in force",
        params: AlertParams,
        body: AlertReviewBody,
        response: { 200: AlertView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.alerts.acknowledge");
      const adminId = request.actor.userId;
      const alert = await auditedWrite(ctx, request, reply, async (trx) => {
        const seen = await ctx.security.acknowledge(request.params.alertId, adminId, request.body?.note, trx);
        request.auditDetails = { rule: seen.rule, subject: seen.subject };
        return seen;
      });
      return toAlertView(alert);
    },
  );

  app.post(
    "/v1/admin/alerts/:alertId/release",
    {
      config: {
        meta: { access: "user", action: "admin.alerts.release", objectType: "alert", objectParam: "alertId" },
      },
      schema: {
        tags: ["admin"],
        summary: "Close an alert and lift its containment (key, user writes, device quarantine, IP block)",
        params: AlertParams,
        body: AlertReviewBody,
        response: { 200: AlertView.extend({ lifted: z.boolean() }) },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.alerts.release");
      const adminId = request.actor.userId;
      const alert = await auditedWrite(ctx, request, reply, async (trx) => {
        const released = await ctx.security.release(request.params.alertId, adminId, request.body?.note, trx);
        request.auditDetails = {
          rule: released.rule,
          subject: released.subject,
          containment: released.containment,
          lifted: released.lifted,
        };
        return released;
      });
      return { ...toAlertView(alert), lifted: alert.lifted };
    },
  );

  app.get(
    "/v1/admin/audit",
    {
      config: { meta: { access: "user", action: "admin.audit.search" } },
      schema: {
        tags: ["admin"],
        summary: "Search the audit log, newest first (exact filters; cursor is the last seq seen)",
        querystring: AuditSearchQuery,
        response: { 200: z.object({ items: z.array(AuditRecordView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.audit.search");
      const { actor, action, object, since } = request.query;
      request.auditDetails = { filter: { actor, action, object, since } };
      const items = await searchAudit(ctx.db, request.query);
      const last = items.at(-1);
      return { items, nextCursor: items.length === request.query.limit && last ? last.seq : null };
    },
  );

  app.get(
    "/v1/admin/audit/verify",
    {
      config: { meta: { access: "user", action: "admin.audit.verify" } },
      schema: {
        tags: ["admin"],
        summary: "Walk the whole audit hash chain and name the first broken row",
        response: { 200: AuditVerificationView },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.audit.verify");
      const result = await verifyAuditChain(ctx.db);
      request.auditDetails = { ...result };
      return result;
    },
  );
}
