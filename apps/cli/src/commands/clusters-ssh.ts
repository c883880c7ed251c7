import { type AccessEnd, openAccessSocket } from "../access/access-socket.js";
import { type Command, UsageError } from "../command.js";
import { CREDENTIAL_OPTIONS, parseAdminArgs } from "./admin-options.js";

/** The exit code of a session that did not get to run its command (as OpenSSH's own 255). */
export const SESSION_FAILED = 255;

/** The `--rank` flag: a whole number, 0 by default; the server checks it against the cluster. */
export function rankOf(value: unknown): string {
  if (value === undefined) return "0";
  if (typeof value !== "string" || !/^\d{1,6}$/.test(value))
    throw new UsageError("--rank takes a whole number");
  return value;
}

/** Prints how a session ended and turns it into an exit code: the command's own, or 255 with the reason. */
export function exitCodeOf(end: AccessEnd): number {
  if ("error" in end) {
    process.stderr.write(`ignis: ${end.error.code}: ${end.error.message}\n`);
    return SESSION_FAILED;
  }
  return end.exitCode ?? SESSION_FAILED;
}

/**
 * Pipes this process's stdin and stdout through an access stream until it ends. With a terminal on both sides,
 * stdin goes raw, so keys such as Ctrl-C reach the job's shell instead of ending this command.
 */
async function pipeStdio(
  path: string,
  server: string,
  token: string | undefined,
  raw: boolean,
): Promise<number> {
  const socket = openAccessSocket(server, path, token);
  socket.onData((fd, bytes) => (fd === 2 ? process.stderr : process.stdout).write(bytes));
  const stdin = process.stdin;
  const rawMode = raw && stdin.isTTY === true;
  if (rawMode) stdin.setRawMode(true);
  const restore = () => {
    if (rawMode) stdin.setRawMode(false);
  };
  const onInput = (chunk: Buffer) => {
    stdin.pause();
    void socket.write(chunk).then(() => stdin.resume());
  };
  const onEnd = () => socket.eof();
  if (await socket.opened) {
    stdin.on("data", onInput);
    stdin.once("end", onEnd);
    stdin.resume();
  }
  try {
    return exitCodeOf(await socket.ended);
  } finally {
    stdin.off("data", onInput);
    stdin.off("end", onEnd);
    stdin.pause();
    restore();
  }
}

const OPTIONS = {
  rank: { type: "string" },
  tty: { type: "boolean" },
  "no-tty": { type: "boolean" },
  proxy: { type: "boolean" },
  port: { type: "string" },
} as const;

/** `ignis clusters ssh`: a shell or a command in a rank's job container, or a ProxyCommand for OpenSSH. */
export const command: Command = {
  path: ["clusters", "ssh"],
  summary: "a shell or a command in a rank's job container, through the control plane",
  usage:
    "usage: ignis clusters ssh CLUSTER_ID [--rank N] [--tty | --no-tty] [-- COMMAND [ARGS...]]\n" +
    "       ignis clusters ssh CLUSTER_ID [--rank N] --proxy [--port 22]\n" +
    "  common: [--server URL] [--api-key KEY] [--state DIR]  (or IGNIS_SERVER / IGNIS_API_KEY)\n" +
    "  Without COMMAND it opens /bin/sh (with a terminal when stdin is one). With COMMAND it exits with the\n" +
    "  command's exit code (255 when the session could not run it). --proxy pipes stdin/stdout to PORT inside the\n" +
    "  job, for OpenSSH when the job runs an sshd:\n" +
    "    Host ignis-*\n" +
    "      ProxyCommand ignis clusters ssh %h --rank 0 --proxy\n" +
    "  (with the cluster id as the host name), so ssh, scp and VS Code Remote work.",
  options: { ...CREDENTIAL_OPTIONS, ...OPTIONS },
  async run(argv) {
    const split = argv.indexOf("--");
    const own = split === -1 ? argv : argv.slice(0, split);
    const commandLine = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals, credential } = await parseAdminArgs(own, OPTIONS);
    const [clusterId, ...extra] = positionals;
    if (!clusterId) throw new UsageError("ssh needs a cluster id");
    // Everything after the cluster id is the command, as with ssh: `ignis clusters ssh C ls -l` works too.
    const cmd = commandLine.length > 0 ? commandLine : extra;
    if (commandLine.length > 0 && extra.length > 0)
      throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const rank = rankOf(values.rank);
    const base = `v1/clusters/${encodeURIComponent(clusterId.replace(/^ignis-/, ""))}/ranks/${rank}`;
    if (values.proxy === true) {
      if (cmd.length > 0) throw new UsageError("--proxy forwards a port; it runs no command");
      const port = typeof values.port === "string" ? values.port : "22";
      return pipeStdio(
        `${base}/forward?port=${encodeURIComponent(port)}`,
        credential.server,
        credential.token,
        false,
      );
    }
    if (values.port !== undefined) throw new UsageError("--port goes with --proxy");
    const tty =
      values["no-tty"] === true
        ? false
        : values.tty === true || (cmd.length === 0 && process.stdin.isTTY === true);
    const q = new URLSearchParams();
    for (const a of cmd) q.append("argv", a);
    if (tty) {
      q.set("tty", "1");
      if (process.stdout.columns) q.set("cols", String(process.stdout.columns));
      if (process.stdout.rows) q.set("rows", String(process.stdout.rows));
    }
    const query = q.toString();
    return pipeStdio(`${base}/exec${query ? `?${query}` : ""}`, credential.server, credential.token, tty);
  },
};
