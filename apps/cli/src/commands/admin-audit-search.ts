import { AuditRecordView } from "@ignis/protocol";
import { z } from "zod";
import { apiRequest } from "../api-client.js";
import type { Command } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs, queryOf } from "./admin-options.js";

const FILTERS = [
  "actor",
  "credential",
  "action",
  "object",
  "outcome",
  "since",
  "until",
  "cursor",
  "limit",
] as const;
const OPTIONS = Object.fromEntries(FILTERS.map((f) => [f, { type: "string" as const }]));
const Page = z.object({ items: z.array(AuditRecordView), nextCursor: z.string().nullable() });

/** `ignis admin audit search`: the audit log, newest first, filtered by actor, action, object or time. */
export const command: Command = {
  path: ["admin", "audit", "search"],
  summary: "search the audit log, newest first (admin)",
  usage:
    "usage: ignis admin audit search [--actor ID] [--credential ID] [--action NAME] [--object ID] [--outcome O]\n" +
    "         [--since ISO] [--until ISO] [--limit N] [--cursor SEQ] [--server URL] [--api-key KEY] [--json]",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: [],
  async run(argv) {
    const { values, credential } = await parseAdminArgs(argv, OPTIONS);
    const page = Page.parse(
      await apiRequest<unknown>(credential.server, `v1/admin/audit${queryOf(values, FILTERS)}`, {
        token: credential.token,
      }),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(page)}\n`);
      return 0;
    }
    for (const r of page.items) {
      const actor = `${r.actorType}${r.actorId ? `:${r.actorId}` : ""}`;
      const object = r.objectId ? ` ${r.objectType ?? "object"}:${r.objectId}` : "";
      process.stdout.write(
        `${r.seq.padStart(8)} ${r.at} ${actor} ${r.action}${object} ${r.outcome} ip=${r.ip ?? "-"}\n`,
      );
    }
    if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    return 0;
  },
};
