import { AuditVerificationView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import type { Command } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs } from "./admin-options.js";

/** `ignis admin audit verify`: asks the server to walk the whole audit hash chain; exit 1 names the broken row. */
export const command: Command = {
  path: ["admin", "audit", "verify"],
  summary: "check the audit log's hash chain (admin)",
  usage:
    "usage: ignis admin audit verify [--server URL] [--api-key KEY] [--state DIR] [--json]\n" +
    "  exit 0: the chain is intact; exit 1: it is broken, and the first broken row is named.\n" +
    "  Offline, on the database itself: ignis-server audit verify [--data DIR] (DATABASE_URL for PostgreSQL).",
  options: CREDENTIAL_OPTIONS,
  actions: [],
  async run(argv) {
    const { values, credential } = await parseAdminArgs(argv);
    const result = AuditVerificationView.parse(
      await apiRequest<unknown>(credential.server, "v1/admin/audit/verify", { token: credential.token }),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.ok) process.stdout.write(`audit chain intact: ${result.rows} records\n`);
    else
      process.stdout.write(
        `audit chain BROKEN at seq ${result.brokenSeq}: ${result.reason} (${result.rows} records before it verified)\n`,
      );
    return result.ok ? 0 : 1;
  },
};
