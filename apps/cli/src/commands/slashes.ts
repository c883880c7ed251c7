import { creditsOf, SlashList, SlashView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs, printerFor, queryOf } from "./admin-options.js";

const OPTIONS = {
  device: { type: "string" },
  reason: { type: "string" },
} as const;

/** One slash as a line: id, device, amount, reason, when, its evidence and its appeal. */
function slashLine(s: SlashView): string {
  const appeal = s.appeal ? `  appeal ${s.appeal.status}` : "";
  return (
    `${s.id}  ${s.deviceId}  ${creditsOf(s.amount)} credits  ${s.reason}  ${s.at}${appeal}\n` +
    `  evidence: challenge ${s.evidence.challengeId}, transcript sha256 ${s.evidence.transcriptHash}`
  );
}

/** `ignis slashes list [--device ID]|appeal SLASH_ID --reason TEXT`: slashes with their evidence, and appeals. */
export const command: Command = {
  path: ["slashes"],
  summary: "list slashes with their evidence, appeal one of your devices' slashes",
  usage:
    "usage: ignis slashes list [--device DEVICE_ID]\n" +
    "       ignis slashes appeal SLASH_ID --reason TEXT\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR] [--json]\n" +
    "  an appeal asks for a re-proof of the device; a pass refunds the slash",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: ["list", "appeal"],
  async run(argv) {
    const { values, positionals, credential } = await parseAdminArgs(argv, OPTIONS);
    const [action = "list", id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const json = values.json === true;
    const print = printerFor(json);
    switch (action) {
      case "list": {
        if (id) throw new UsageError(`unexpected arguments: ${id}`);
        const query = queryOf({ deviceId: values.device }, ["deviceId"]);
        const list = SlashList.parse(
          await apiRequest<unknown>(credential.server, `v1/slashes${query}`, { token: credential.token }),
        );
        print(list, list.items.length === 0 ? "no slashes" : list.items.map(slashLine).join("\n"));
        return 0;
      }
      case "appeal": {
        if (!id) throw new UsageError("appeal needs a slash id");
        if (typeof values.reason !== "string" || values.reason.trim() === "")
          throw new UsageError("--reason is required");
        const slash = SlashView.parse(
          await apiRequest<unknown>(credential.server, `v1/slashes/${encodeURIComponent(id)}/appeal`, {
            token: credential.token,
            body: { reason: values.reason },
          }),
        );
        print(
          slash,
          `${slashLine(slash)}\nappealed: the device is challenged again; a pass refunds the slash`,
        );
        return 0;
      }
    }
    throw new UsageError(`unknown action '${action}'`);
  },
};
