import { ClusterList, ClusterLogs, ClusterView, CreditBalance, creditsOf } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import type { ResolvedCredential } from "../auth/resolve-credential.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs, printerFor } from "./admin-options.js";
import { CREATE_OPTIONS, createAndWatch, createBody } from "./clusters-create.js";

const FINISHED = new Set(["completed", "failed", "cancelled"]);

function summary(c: ClusterView): string {
  const head = `${c.id} ${c.status.padEnd(9)} ${c.count}× ${c.gpuModel} for ${c.hours}h  held ${creditsOf(c.escrow.held)}  charged ${creditsOf(c.escrow.charged)}  refunded ${creditsOf(c.escrow.refunded)} credits`;
  const ranks = c.devices.map(
    (d) =>
      `  rank ${d.rank} ${d.deviceId} ${d.state}${d.exitCode !== null ? ` (exit ${d.exitCode})` : ""}${d.error ? ` ${d.error}` : ""}${d.awaitingReplacementUntil ? `; waiting for a free device until ${d.awaitingReplacementUntil}` : ""}  ${d.meteredMinutes} min  ${creditsOf(d.charged)} credits`,
  );
  return [head, ...ranks].join("\n");
}

async function get<T>(credential: ResolvedCredential, path: string): Promise<T> {
  return apiRequest<T>(credential.server, path, { token: credential.token });
}

/** Prints a cluster's logs from the start; with `follow`, keeps polling until the cluster has ended. */
async function printLogs(
  credential: ResolvedCredential,
  id: string,
  rank: string | undefined,
  follow: boolean,
) {
  let after: string | null = null;
  const drain = async () => {
    for (;;) {
      const q = new URLSearchParams({
        limit: "1000",
        ...(after ? { after } : {}),
        ...(rank ? { rank } : {}),
      });
      const page = ClusterLogs.parse(
        await get(credential, `v1/clusters/${encodeURIComponent(id)}/logs?${q}`),
      );
      for (const line of page.items) {
        const out = line.stream === "stderr" ? process.stderr : process.stdout;
        out.write(line.data.replace(/^(?=.)/gm, `[${line.rank}] `));
      }
      after = page.nextCursor;
      if (page.items.length < 1000) return;
    }
  };
  await drain();
  while (follow) {
    const cluster = ClusterView.parse(await get(credential, `v1/clusters/${encodeURIComponent(id)}`));
    // Output can arrive just after the final job report: read once more after the end.
    await drain();
    if (FINISHED.has(cluster.status)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const OPTIONS = { ...CREATE_OPTIONS, rank: { type: "string" }, follow: { type: "boolean" } } as const;

/** `ignis clusters create|ls|show|logs|cancel|balance`: rent GPU clusters and follow their jobs. */
export const command: Command = {
  path: ["clusters"],
  summary: "rent a cluster, list and follow your clusters, cancel one",
  usage:
    "usage: ignis clusters create --model MODEL [--count N] [--hours H] [--max-price CREDITS] [--region R]\n" +
    "                             [--country CC[,CC]]... [--exclude-country CC[,CC]]... [--min-tier 1-4|NAME]\n" +
    "                             [--proven-memory]\n" +
    "                             [--image IMAGE] [--env NAME=VALUE]... [--dir PATH] [--no-wait] -- COMMAND [ARGS...]\n" +
    "       ignis clusters ls\n" +
    "       ignis clusters show CLUSTER_ID\n" +
    "       ignis clusters logs CLUSTER_ID [--rank R] [--follow]\n" +
    "       ignis clusters cancel CLUSTER_ID\n" +
    "       ignis clusters balance\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR] [--json]\n" +
    "  prices are credits per GPU-hour; each rank gets IGNIS_CLUSTER_ID, IGNIS_RANK, IGNIS_WORLD_SIZE\n" +
    "  and IGNIS_HEAD_ADDR (host:port of rank 0)",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  actions: ["create", "ls", "show", "logs", "cancel", "balance"],
  async run(argv) {
    const split = argv.indexOf("--");
    const own = split === -1 ? argv : argv.slice(0, split);
    const jobCommand = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals, credential } = await parseAdminArgs(own, OPTIONS);
    const [action = "ls", id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const json = values.json === true;
    const print = printerFor(json);
    switch (action) {
      case "create": {
        const cluster = await createAndWatch(credential, createBody(values, jobCommand), {
          wait: values["no-wait"] !== true,
          json,
        });
        print(cluster, `${summary(cluster)}\n${cluster.id}`);
        // A rental that failed or was cancelled before its ranks started is a failed command, for scripts too.
        if (cluster.status === "failed" || cluster.status === "cancelled") {
          process.stderr.write(
            `ignis: cluster ${cluster.id} ${cluster.status}; see why with: ignis clusters show ${cluster.id}\n`,
          );
          return 1;
        }
        return 0;
      }
      case "ls": {
        const page = ClusterList.parse(await get(credential, "v1/clusters?limit=100"));
        print(page, page.items.length === 0 ? "no clusters" : page.items.map(summary).join("\n"));
        return 0;
      }
      case "balance": {
        const balance = CreditBalance.parse(await get(credential, "v1/credits"));
        print(
          balance,
          `balance ${creditsOf(balance.balance)} credits  held in escrow ${creditsOf(balance.held)} credits`,
        );
        return 0;
      }
    }
    if (!id) throw new UsageError(`${action} needs a cluster id`);
    const path = `v1/clusters/${encodeURIComponent(id)}`;
    switch (action) {
      case "show": {
        const cluster = ClusterView.parse(await get(credential, path));
        print(cluster, summary(cluster));
        return 0;
      }
      case "cancel": {
        const cluster = ClusterView.parse(
          await apiRequest<unknown>(credential.server, `${path}/cancel`, {
            method: "POST",
            body: {},
            token: credential.token,
          }),
        );
        print(cluster, summary(cluster));
        return 0;
      }
      case "logs":
        await printLogs(credential, id, values.rank as string | undefined, values.follow === true);
        return 0;
      default:
        throw new UsageError(`unknown action '${action}'`);
    }
  },
};
