import serverPackage from "../package.json" with { type: "json" };
import { parseServerCommandLine, SERVER_COMMANDS, ServerUsageError } from "./command-line.js";
import { ConfigError, loadConfig } from "./config.js";
import { misspeltSettings } from "./config-typos.js";
import { earlyHold, listenEarly, takeEarlyListener } from "./http/early-listener.js";
import { localUrlOf, recordRunningServer } from "./running-server.js";

/**
 * Entry point of `ignis-server`: read the command line (help, version and usage errors answer before anything
 * is opened), parse config once, then run a subcommand or start, and shut down gracefully on signals.
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const invocation = parseServerCommandLine(argv);
  if (invocation.version) {
    process.stdout.write(`ignis-server ${serverPackage.version}\n`);
    return;
  }
  if (invocation.help) {
    process.stdout.write(`${SERVER_COMMANDS[invocation.command].usage}\n`);
    return;
  }
  const config = loadConfig(process.env, argv);
  if (invocation.command === "invite") {
    const { runInviteCommand } = await import("./identity/invite-command.js");
    const str = (k: string) =>
      typeof invocation.values[k] === "string" ? (invocation.values[k] as string) : undefined;
    process.exitCode = await runInviteCommand(config, {
      email: str("email"),
      roles: str("roles"),
      server: str("server"),
    });
    return;
  }
  if (invocation.command === "audit") {
    const { runAuditCommand } = await import("./security/audit-command.js");
    process.exitCode = await runAuditCommand(config);
    return;
  }
  if (invocation.command === "chain") {
    const { runChainDeployCommand } = await import("./chain/deploy-command.js");
    process.exitCode = await runChainDeployCommand(config);
    return;
  }
  // The port is bound first and answers 503 `starting` with a Retry-After while the rest loads and starts.
  // (bin/ignis-server.js binds it before loading this module; run any other way, it is bound here.)
  // A port that cannot be bound yet is bound (and its error reported) by listen() after the checks createServer
  // makes first (another server on this data dir, say).
  const early =
    (await takeEarlyListener(config.port, config.host)) ??
    (await listenEarly(config.port, config.host, earlyHold(process.env)).catch(() => undefined));
  const { createServer } = await import("./server.js");
  const server = await createServer(config, early ? { early } : {});
  for (const { key, didYouMean } of misspeltSettings(process.env)) {
    server.ctx.log.warn(
      { key, didYouMean },
      `${key} is not a setting of ignis-server (did you mean ${didYouMean}?)`,
    );
  }
  const address = await server.listen();
  // `ignis-server invite` on this data dir finds the running server here and asks it instead of the database.
  const forget = recordRunningServer(config.dataDir, localUrlOf(address));
  server.ctx.log.info(
    { address, dataDir: config.dataDir, database: server.ctx.database.dialect },
    "ignis-server listening",
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.ctx.log.info({ signal }, "shutting down: draining connections and flushing buffers");
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    forget();
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof ServerUsageError) {
    process.stderr.write(`ignis-server: ${error.message}\nsee: ignis-server --help\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const { name, message } = error instanceof Error ? error : { name: "", message: String(error) };
  // A data dir held by another process says what to do; anything else gets its stack for the bug report.
  process.stderr.write(
    name === "DataDirInUseError"
      ? `ignis-server failed to start: ${message}\n`
      : `ignis-server failed to start: ${error instanceof Error ? (error.stack ?? message) : message}\n`,
  );
  process.exit(1);
});
