import { parseArgs } from "node:util";
import { creditsOf, EarningsView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { resolveCredential } from "../auth/resolve-credential.js";
import { type Command, UsageError } from "../command.js";

/** Micro-units as credits, the one unit people see (the API's micro-units stay in --json). */
export function formatCredits(micro: string): string {
  return `${creditsOf(micro)} credits`;
}

const OPTIONS = {
  server: { type: "string" },
  "api-key": { type: "string" },
  state: { type: "string" },
  device: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `ignis rewards [--server URL] [--api-key KEY] [--device ID] [--limit N] [--json]`: the caller's earnings. */
export const command: Command = {
  path: ["rewards"],
  summary: "show your reward earnings per device and per epoch",
  usage:
    "usage: ignis rewards [--server URL] [--api-key KEY] [--state DIR] [--device ID] [--limit N] [--json]\n" +
    "       ignis rewards verify --server URL --epoch E --device ID [--amount A]",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: {
      server?: string;
      "api-key"?: string;
      state?: string;
      device?: string;
      limit?: string;
      json?: boolean;
    };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: OPTIONS,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.limit !== undefined && !/^\d{1,3}$/.test(values.limit))
      throw new UsageError("--limit must be 1 to 100");
    const credential = await resolveCredential({
      server: values.server,
      apiKey: values["api-key"],
      stateDir: values.state,
    });
    const query = new URLSearchParams();
    if (values.device) query.set("deviceId", values.device);
    if (values.limit) query.set("limit", values.limit);
    const earnings = EarningsView.parse(
      await apiRequest<unknown>(credential.server, `v1/rewards/earnings?${query}`, {
        token: credential.token,
      }),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(earnings)}\n`);
      return 0;
    }
    const lines = [
      `balance: ${formatCredits(earnings.balance)} (total rewarded ${formatCredits(earnings.total)})`,
    ];
    lines.push("", "device                            epochs  total");
    for (const d of earnings.devices)
      lines.push(`${d.deviceId}  ${String(d.epochs).padStart(6)}  ${formatCredits(d.total)}`);
    lines.push("", "epoch        device                            up-min  weight  amount");
    for (const i of earnings.items) {
      lines.push(
        `${String(i.epoch).padEnd(11)}  ${i.deviceId}  ${String(i.upMinutes).padStart(6)}  ${String(i.weight).padStart(6)}  ${formatCredits(i.amount)}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
