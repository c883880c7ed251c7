import { ConfigError, loadConfig } from "./config.js";
import { misspeltSettings } from "./config-typos.js";
import { createServer } from "./server.js";

/** Entry point of `ignis-server`: parse config once, start, and shut down gracefully on signals. */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = loadConfig(process.env, argv);
  if (argv[0] === "invite") {
    const { runInviteCommand } = await import("./identity/invite-command.js");
    process.exitCode = await runInviteCommand(config, argv.slice(1));
    return;
  }
  if (argv[0] === "audit") {
    const { runAuditCommand } = await import("./security/audit-command.js");
    process.exitCode = await runAuditCommand(config, argv.slice(1));
    return;
  }
  const server = await createServer(config);
  for (const { key, didYouMean } of misspeltSettings(process.env)) {
    server.ctx.log.warn(
      { key, didYouMean },
      `${key} is not a setting of ignis-server (did you mean ${didYouMean}?)`,
    );
  }
  const address = await server.listen();
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
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `ignis-server failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
