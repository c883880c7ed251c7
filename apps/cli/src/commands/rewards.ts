import { parseArgs } from "node:util";
import { EarningsView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { resolveCredential } from "../auth/resolve-credential.js";
import { type Command, UsageError } from "../command.js";

/** Micro-units as whole units with six decimals (integers only, no floats). */
export function formatMicroUnits(micro: string): string {
  const value = BigInt(micro);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0")}`;
}

/** `ignis rewards [--server URL] [--api-key KEY] [--device ID] [--limit N] [--json]`: the caller's earnings. */
export const command: Command = {
  path: ["rewards"],
  summary: "show your reward earnings per device and per epoch",
  usage:
    "usage: ignis rewards [--server URL] [--api-key KEY] [--state DIR] [--device ID] [--limit N] [--json]\n" +
    "       ignis rewards verify --server URL --epoch E --device ID [--amount A]",
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
        options: {
          server: { type: "string" },
          "api-key": { type: "string" },
          state: { type: "string" },
          device: { type: "string" },
          limit: { type: "string" },
          json: { type: "boolean" },
        },
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
      `balance: ${formatMicroUnits(earnings.balance)} (total rewarded ${formatMicroUnits(earnings.total)})`,
    ];
    lines.push("", "device                            epochs  total");
    for (const d of earnings.devices)
      lines.push(`${d.deviceId}  ${String(d.epochs).padStart(6)}  ${formatMicroUnits(d.total)}`);
    lines.push("", "epoch        device                            up-min  weight  amount");
    for (const i of earnings.items) {
      lines.push(
        `${String(i.epoch).padEnd(11)}  ${i.deviceId}  ${String(i.upMinutes).padStart(6)}  ${String(i.weight).padStart(6)}  ${formatMicroUnits(i.amount)}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
