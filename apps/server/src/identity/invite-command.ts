import { parseArgs } from "node:util";
import { Role } from "@ignis/protocol";
import type { Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";
import { createUser } from "./user-admin.js";

/** `ignis-server invite --email E --roles admin[,supplier]`: prints a one-time invitation link. */
export async function runInviteCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: "string" }, roles: { type: "string" } },
    strict: true,
  });
  const roles = (values.roles ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const parsedRoles = roles.map((r) => Role.safeParse(r));
  if (!values.email || roles.length === 0 || parsedRoles.some((r) => !r.success)) {
    process.stderr.write("usage: ignis-server invite --email E --roles supplier|customer|admin[,...]\n");
    return 2;
  }
  if (!config.oidc.embedded) {
    process.stderr.write(
      "invitations are for the embedded provider; with an external issuer, create users there\n",
    );
    return 2;
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
    const { inviteUrl } = await createUser(
      database.db,
      { embedded: true, issuer: "local", publicUrl },
      {
        email: values.email,
        roles: parsedRoles.map((r) => r.data!),
      },
    );
    process.stdout.write(`${inviteUrl}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}
