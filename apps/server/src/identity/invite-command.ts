import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Role } from "@ignis/protocol";
import type { Config } from "../config.js";
import { DataDirInUseError, dataDirHolder } from "../db/data-dir-lock.js";
import { openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";
import { findRunningServer } from "../running-server.js";
import { ADMIN_KEY_FILE } from "./bootstrap-admin.js";
import { createUser } from "./user-admin.js";

/** What `ignis-server invite` was asked: the user, and optionally the server to ask. */
export interface InviteRequest {
  email: string | undefined;
  roles: string | undefined;
  server: string | undefined;
}

/** Exit codes: 0 invited, 1 failed (the line says why and what to do), 2 usage. */
type ExitCode = 0 | 1 | 2;

/** Invites through a running server's admin API, so its own database and its own public URL are used. */
async function inviteThroughServer(
  server: string,
  adminKey: string,
  body: { email: string; roles: Role[] },
): Promise<ExitCode> {
  let response: Response;
  try {
    response = await fetch(new URL("/v1/admin/users", server), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    process.stderr.write(
      `cannot reach the server at ${server} (${(error as Error).message}); is it still running?\n`,
    );
    return 1;
  }
  const answer = (await response.json().catch(() => ({}))) as {
    inviteUrl?: string;
    code?: string;
    detail?: string;
  };
  if (!response.ok || !answer.inviteUrl) {
    process.stderr.write(
      `the server at ${server} refused the invitation: ${answer.code ?? response.status}: ${answer.detail ?? "no invitation link"}\n`,
    );
    return 1;
  }
  process.stdout.write(`${answer.inviteUrl}\n`);
  return 0;
}

/**
 * `ignis-server invite --email E --roles admin[,supplier]`: prints a one-time invitation link. With a server
 * running on the data dir (or named by --server) it asks that server's admin API with the bootstrap admin key,
 * so the user appears in the running server at once; otherwise it opens the database itself, which the data
 * dir's lock refuses while any other process has it open.
 */
export async function runInviteCommand(config: Config, request: InviteRequest): Promise<ExitCode> {
  const roles = (request.roles ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const parsedRoles = roles.map((r) => Role.safeParse(r));
  if (!request.email || roles.length === 0 || parsedRoles.some((r) => !r.success)) {
    process.stderr.write(
      "ignis-server invite: give --email E and --roles from supplier, customer, admin (comma-separated)\n" +
        "see: ignis-server invite --help\n",
    );
    return 2;
  }
  if (!config.oidc.embedded) {
    process.stderr.write(
      "invitations are for the embedded provider; with an external issuer (IGNIS_OIDC_ISSUER), create users there\n",
    );
    return 1;
  }
  const body = { email: request.email, roles: parsedRoles.map((r) => r.data!) };
  const server = request.server ?? findRunningServer(config.dataDir)?.url;
  if (server) {
    let adminKey: string;
    try {
      adminKey = readFileSync(join(config.dataDir, ADMIN_KEY_FILE), "utf8").trim();
    } catch {
      process.stderr.write(
        `no admin key at ${join(config.dataDir, ADMIN_KEY_FILE)}: pass the server's --data DIR, or invite with ` +
          "POST /v1/admin/users and an admin key\n",
      );
      return 1;
    }
    return inviteThroughServer(server, adminKey, body);
  }
  const holder = config.databaseUrl ? undefined : dataDirHolder(config.dataDir);
  if (holder !== undefined) {
    process.stderr.write(`${new DataDirInUseError(config.dataDir, holder).message}\n`);
    return 1;
  }
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  try {
    await migrateToLatest(database.db);
    const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
    const { inviteUrl } = await createUser(database.db, { embedded: true, issuer: "local", publicUrl }, body);
    process.stdout.write(`${inviteUrl}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}
