import { IgnisError } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Db } from "../db/database.js";
import { appendAuditWithin } from "../security/audit-log.js";
import type { AppContext } from "./context.js";
import { auditEntryOf } from "./request-pipeline.js";

/**
 * Runs a route's write and appends its audit record in one transaction: both commit, or neither does. The write
 * sets `request.auditDetails` / `auditObjectId` (and the status) before it returns; the pipeline then skips its
 * own after-the-fact record of the success. A refusal thrown by the write rolls everything back and is audited
 * by the pipeline as usual; an audit append that fails rolls the write back and answers 503, so a caller is
 * never told "failed" about a write that happened.
 */
export async function auditedWrite<T>(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (trx: Db) => Promise<T>,
): Promise<T> {
  return ctx.db.transaction().execute(async (trx) => {
    const result = await write(trx);
    try {
      await appendAuditWithin(trx, auditEntryOf(request, reply.statusCode, "ok"));
    } catch (error) {
      request.log.error({ err: error }, "audit append failed; the write is rolled back");
      throw new IgnisError("unavailable", "the audit log is unavailable; nothing was changed", {
        cause: error,
      });
    }
    request.auditedWithWrite = true;
    return result;
  });
}
