import type { Command } from "../command.js";

/**
 * Every CLI command. Each module exports one Command; add a line here when adding a command
 * (kept in one list so `ignis help` shows them all).
 */
export async function loadCommands(): Promise<Command[]> {
  const modules: Array<Promise<{ command: Command }>> = [
    import("./admin-alerts.js"),
    import("./admin-audit-search.js"),
    import("./admin-audit-verify.js"),
    import("./login.js"),
    import("./logout.js"),
    import("./whoami.js"),
    import("./doctor.js"),
    import("./worker-enroll.js"),
    import("./worker-run.js"),
    import("./worker-update.js"),
    import("./worker-image.js"),
    import("./rewards.js"),
    import("./rewards-verify.js"),
    import("./sim.js"),
    import("./clusters.js"),
    import("./clusters-ssh.js"),
    import("./clusters-port-forward.js"),
    import("./admin-credits.js"),
    import("./stakes.js"),
    import("./slashes.js"),
  ];
  return (await Promise.all(modules)).map((m) => m.command);
}
