import { createServer, type Socket } from "node:net";
import { openAccessSocket } from "../access/access-socket.js";
import { ApiError, apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs } from "./admin-options.js";
import { rankOf } from "./clusters-ssh.js";

/** `LOCAL:REMOTE` (or one port for both): each a whole number from 1 to 65535 (0 locally picks a free port). */
export function parsePortPair(text: string): { local: number; remote: string } {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw new UsageError(`'${text}' is not LOCAL:REMOTE (two port numbers)`);
  const local = Number(m[1]);
  if (local > 65_535) throw new UsageError(`local port ${local} is not from 0 to 65535`);
  // The remote port is the server's to judge (invalid_port), so a script sees the same code as the API gives.
  return { local, remote: m[2] ?? m[1]! };
}

/** Pipes one accepted local connection through its own forward stream. */
function forwardConnection(
  local: Socket,
  server: string,
  path: string,
  token: string | undefined,
  log: (l: string) => void,
) {
  local.pause();
  const remote = openAccessSocket(server, path, token);
  remote.onData((_fd, bytes) => {
    if (!local.write(bytes)) {
      // The local reader is slow: the socket's own buffer absorbs it, and TCP slows the job's side down.
    }
  });
  remote.onEof(() => local.end());
  void remote.opened.then((open) => {
    if (!open) return;
    local.on("data", (chunk: Buffer) => {
      local.pause();
      void remote.write(chunk).then(() => local.resume());
    });
    local.once("end", () => remote.eof());
    local.resume();
  });
  local.on("error", () => remote.close());
  local.once("close", () => remote.close());
  void remote.ended.then((end) => {
    if ("error" in end && end.error.code !== "unavailable")
      log(`connection refused: ${end.error.code}: ${end.error.message}`);
    local.end();
    local.destroySoon?.();
  });
}

const OPTIONS = { rank: { type: "string" }, address: { type: "string" } } as const;

/** `ignis clusters port-forward`: a local port whose connections reach a port inside a rank's job. */
export const command: Command = {
  path: ["clusters", "port-forward"],
  summary: "forward a local port to a port inside a rank's job (Jupyter, TensorBoard, ...)",
  usage:
    "usage: ignis clusters port-forward CLUSTER_ID [--rank N] [--address HOST] LOCAL:REMOTE\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR]  (or IGNIS_SERVER / IGNIS_API_KEY)\n" +
    "  Listens on HOST:LOCAL (127.0.0.1 by default; LOCAL 0 picks a free port, printed on stdout) and carries\n" +
    "  each connection to 127.0.0.1:REMOTE inside the job, through the control plane. Runs until interrupted.",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  async run(argv) {
    const { values, positionals, credential } = await parseAdminArgs(argv, OPTIONS);
    const [clusterId, pair, ...extra] = positionals;
    if (!clusterId || !pair) throw new UsageError("port-forward needs a cluster id and LOCAL:REMOTE");
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const { local, remote } = parsePortPair(pair);
    const rank = rankOf(values.rank);
    const path = `v1/clusters/${encodeURIComponent(clusterId)}/ranks/${rank}/forward?port=${encodeURIComponent(remote)}`;
    const log = (line: string) => process.stderr.write(`ignis: ${line}\n`);
    // A plain GET runs every check of the upgrade and opens nothing: someone else's cluster, one not running or a
    // bad port fails the command at once instead of every later connection.
    try {
      await apiRequest(credential.server, path, { token: credential.token });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code !== "upgrade_required") {
        log(`${error.code}: ${error.message}`);
        return 1;
      }
    }
    const host = typeof values.address === "string" ? values.address : "127.0.0.1";
    const listener = createServer((socket) =>
      forwardConnection(socket, credential.server, path, credential.token, log),
    );
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(local, host, () => resolve());
    });
    const address = listener.address();
    const port = typeof address === "object" && address ? address.port : local;
    process.stdout.write(`forwarding ${host}:${port} -> ${clusterId} rank ${rank} port ${remote}\n${port}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        listener.close();
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  },
};
