import { CreditGrant, creditsOf, microUnitsOfCredits } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs } from "./admin-options.js";

const OPTIONS = {
  user: { type: "string" },
  amount: { type: "string" },
  reference: { type: "string" },
  note: { type: "string" },
} as const;

/** `ignis admin credits grant --user ID --amount N`: grants a customer prepaid credit (admin). */
export const command: Command = {
  path: ["admin", "credits"],
  summary: "grant a customer prepaid credit (admin)",
  usage:
    "usage: ignis admin credits grant --user USER_ID --amount CREDITS [--reference KEY] [--note TEXT]\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR] [--json]\n" +
    "  CREDITS is an amount of credits, up to six decimals (50, 12.5); --reference makes a retry grant once",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: ["grant"],
  async run(argv) {
    const { values, positionals, credential } = await parseAdminArgs(argv, OPTIONS);
    const [action, ...extra] = positionals;
    if (action !== "grant" || extra.length > 0) throw new UsageError("the only action is: grant");
    if (typeof values.user !== "string") throw new UsageError("--user is required");
    if (typeof values.amount !== "string") throw new UsageError("--amount is required");
    const micro = microUnitsOfCredits(values.amount);
    if (micro === undefined)
      throw new UsageError(`--amount takes credits (50, 12.5), got '${values.amount}'`);
    const grant = CreditGrant.parse(
      await apiRequest<unknown>(credential.server, "v1/admin/credits", {
        token: credential.token,
        body: {
          userId: values.user,
          amount: micro.toString(),
          ...(typeof values.reference === "string" ? { reference: values.reference } : {}),
          ...(typeof values.note === "string" ? { note: values.note } : {}),
        },
      }),
    );
    process.stdout.write(
      values.json
        ? `${JSON.stringify(grant)}\n`
        : `granted ${creditsOf(grant.amount)} credits to ${grant.userId}; balance ${creditsOf(grant.balance)} credits\n`,
    );
    return 0;
  },
};
