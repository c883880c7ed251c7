import { existsSync } from "node:fs";
import type { MeshReport, SandboxReport } from "@ignis/protocol";
import { type CommandRunner, runCommand } from "../sandbox/exec.js";

/**
 * Whether this worker can put its jobs on a cluster's overlay (reported as `hardware.mesh`): it needs jobs in
 * containers of a rootful engine (the tun is moved into the job's network namespace), root to make a tun,
 * nebula and iproute2.
 */
export async function meshSupport(
  sandbox: SandboxReport,
  options: { run?: CommandRunner; uid?: number | undefined; tunPath?: string } = {},
): Promise<MeshReport> {
  const run = options.run ?? runCommand;
  const no = (message: string): MeshReport => ({ kind: "unavailable", message });
  if (sandbox.kind !== "container") return no("jobs do not run in containers");
  if (sandbox.rootless) return no("a rootless engine cannot be given the overlay's tun device");
  if ((options.uid ?? process.getuid?.()) !== 0)
    return no("the worker must run as root to make a tun device");
  if (!existsSync(options.tunPath ?? "/dev/net/tun")) return no("/dev/net/tun is missing");
  const nebula = await run("nebula", ["-version"], { timeoutMs: 5000 });
  if (nebula.code !== 0) return no("nebula is not installed (apt-get install -y nebula)");
  if ((await run("ip", ["-V"], { timeoutMs: 5000 })).code !== 0) return no("iproute2 (ip) is not installed");
  const version = /Version:\s*(\S+)/.exec(nebula.stdout)?.[1] ?? "unknown";
  return { kind: "nebula", version: version.slice(0, 40) };
}
