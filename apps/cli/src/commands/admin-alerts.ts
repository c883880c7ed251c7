import { AlertView } from "@ignis/protocol";
import { z } from "zod";
import { apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs, queryOf } from "./admin-options.js";

const Page = z.object({ items: z.array(AlertView), nextCursor: z.string().nullable() });

function line(a: AlertView): string {
  const contained = a.contained ? ` contained:${a.containment.kind}` : "";
  return `${a.id} ${a.createdAt} ${a.severity.padEnd(8)} ${a.status.padEnd(12)} ${a.rule} ${a.subject}${contained}`;
}

const OPTIONS = {
  status: { type: "string" },
  rule: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  note: { type: "string" },
} as const;

/** `ignis admin alerts [list | acknowledge ID | release ID]`: review security alerts and lift containment. */
export const command: Command = {
  path: ["admin", "alerts"],
  summary: "list, acknowledge or release security alerts (admin)",
  usage:
    "usage: ignis admin alerts [list] [--status open|acknowledged|released] [--rule R] [--limit N] [--cursor ID]\n" +
    "       ignis admin alerts acknowledge ALERT_ID [--note TEXT]\n" +
    "       ignis admin alerts release ALERT_ID [--note TEXT]   (lifts the key suspension, freeze, quarantine or IP block)\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR] [--json]",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: ["list", "acknowledge", "release"],
  async run(argv) {
    const { values, positionals, credential } = await parseAdminArgs(argv, OPTIONS);
    const [action = "list", alertId, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    if (action === "list") {
      const path = `v1/admin/alerts${queryOf(values, ["status", "rule", "limit", "cursor"])}`;
      const page = Page.parse(
        await apiRequest<unknown>(credential.server, path, { token: credential.token }),
      );
      if (values.json) process.stdout.write(`${JSON.stringify(page)}\n`);
      else {
        for (const a of page.items) process.stdout.write(`${line(a)}\n`);
        if (page.items.length === 0) process.stdout.write("no alerts\n");
      }
      return 0;
    }
    if (action !== "acknowledge" && action !== "release") throw new UsageError(`unknown action '${action}'`);
    if (!alertId) throw new UsageError(`${action} needs an alert id`);
    const alert = AlertView.extend({ lifted: z.boolean().optional() }).parse(
      await apiRequest<unknown>(
        credential.server,
        `v1/admin/alerts/${encodeURIComponent(alertId)}/${action}`,
        {
          method: "POST",
          body: typeof values.note === "string" ? { note: values.note } : {},
          token: credential.token,
        },
      ),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(alert)}\n`);
    else {
      process.stdout.write(`${line(alert)}\n`);
      if (action === "release")
        process.stdout.write(
          alert.lifted ? "containment lifted\n" : "containment still held by another alert\n",
        );
    }
    return 0;
  },
};
