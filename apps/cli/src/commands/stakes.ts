import { creditsOf, microUnitsOfCredits, StakeList, StakeView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs, printerFor } from "./admin-options.js";

const OPTIONS = {
  device: { type: "string" },
  amount: { type: "string" },
} as const;

/** One stake as a line: id, device, bonded of amount, status and when its money returns. */
function stakeLine(s: StakeView): string {
  const bonded = s.bonded === s.amount ? "" : ` (bonded ${creditsOf(s.bonded)})`;
  const release =
    s.status === "unbonding" && s.releaseAt
      ? `  returns ${s.releaseAt}`
      : s.status === "released"
        ? "  returned"
        : "";
  return `${s.id}  ${s.deviceId}  ${creditsOf(s.amount)} credits${bonded}  ${s.status}${release}`;
}

/** The list with the rule it is judged by, in credits. */
function listText(list: StakeList): string {
  const rule =
    list.perGpu === "0"
      ? "staking is off on this server"
      : `rule: ${creditsOf(list.perGpu)} credits per GPU; a fraud-class failure slashes ${list.slashBps / 100}%; ` +
        `unbonding takes ${list.unbondSeconds} s` +
        (list.pendingSeconds ? `; a new stake counts after ${list.pendingSeconds} s` : "");
  const lines = [
    `earnings balance (stakes are paid from it): ${creditsOf(list.earningsBalance)} credits`,
    rule,
  ];
  lines.push(list.items.length === 0 ? "no stakes" : list.items.map(stakeLine).join("\n"));
  return lines.join("\n");
}

/** `ignis stakes list|add --device ID --amount CREDITS|unbond STAKE_ID`: a supplier's stakes on their devices. */
export const command: Command = {
  path: ["stakes"],
  summary: "list, add and unbond the stakes on your devices",
  usage:
    "usage: ignis stakes list\n" +
    "       ignis stakes add --device DEVICE_ID --amount CREDITS\n" +
    "       ignis stakes unbond STAKE_ID\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR] [--json]\n" +
    "  CREDITS is an amount of credits, up to six decimals (50, 12.5), paid from your earnings;\n" +
    "  an unbonding stake returns after the server's unbonding delay and can still be slashed until then",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: ["list", "add", "unbond"],
  async run(argv) {
    const { values, positionals, credential } = await parseAdminArgs(argv, OPTIONS);
    const [action = "list", id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const json = values.json === true;
    const print = printerFor(json);
    const call = (path: string, body?: unknown) =>
      apiRequest<unknown>(credential.server, path, { token: credential.token, body });
    switch (action) {
      case "list": {
        if (id) throw new UsageError(`unexpected arguments: ${id}`);
        const list = StakeList.parse(await call("v1/stakes"));
        print(list, listText(list));
        return 0;
      }
      case "add": {
        if (id) throw new UsageError(`unexpected arguments: ${id}`);
        if (typeof values.device !== "string") throw new UsageError("--device is required");
        if (typeof values.amount !== "string") throw new UsageError("--amount is required");
        const micro = microUnitsOfCredits(values.amount);
        if (micro === undefined || micro <= 0n)
          throw new UsageError(
            `--amount takes a positive amount of credits (50, 12.5), got '${values.amount}'`,
          );
        const stake = StakeView.parse(
          await call("v1/stakes", { deviceId: values.device, amount: micro.toString() }),
        );
        print(stake, `${stakeLine(stake)}\n${stake.id}`);
        return 0;
      }
      case "unbond": {
        if (!id) throw new UsageError("unbond needs a stake id");
        const stake = StakeView.parse(await call(`v1/stakes/${encodeURIComponent(id)}/unbond`, {}));
        print(stake, stakeLine(stake));
        return 0;
      }
    }
    throw new UsageError(`unknown action '${action}'`);
  },
};
