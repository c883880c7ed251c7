import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../../db/database.js";

/** Client ids of machine clients start with this, so they are never mistaken for a user's subject. */
export const MACHINE_CLIENT_PREFIX = "mc_";

/** The client metadata field naming the Ignis user a machine client acts as. */
export const MACHINE_USER_FIELD = "ignis_user_id";

/** How a stored machine-client secret starts: only its SHA-256 digest is kept (migration 0020). */
const DIGEST_PREFIX = "sha256:";

/** The stored form of a client secret: its SHA-256 digest (the secret is 256 random bits, so no salt is needed). */
export function clientSecretDigest(secret: string): string {
  return `${DIGEST_PREFIX}${createHash("sha256").update(secret).digest("hex")}`;
}

/**
 * Whether a presented secret matches a stored one, in constant time. Stored digests are compared as digests;
 * anything else (the provider's first-party clients from configuration) as it is.
 */
export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (stored === undefined) return false;
  const expected = Buffer.from(stored);
  const actual = Buffer.from(stored.startsWith(DIGEST_PREFIX) ? clientSecretDigest(presented) : presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A machine client as an admin sees it: never its secret. */
export interface MachineClientView {
  clientId: string;
  name: string;
  userId: string;
}

/** A newly registered machine client: the secret is shown here once. */
export interface IssuedMachineClient {
  clientId: string;
  clientSecret: string;
  name: string;
  userId: string;
}

/**
 * Registers a confidential machine client of the embedded provider acting as an Ignis user: it gets API access
 * tokens with the client-credentials grant (`client_secret_basic` or `_post`) and, as a resource server, may
 * introspect tokens. Stored where oidc-provider looks up clients it was not configured with (the `Client` rows
 * of its payload table), with the secret's digest only: the provider compares through
 * {@link clientSecretMatches} (provider.ts).
 */
export async function registerMachineClient(
  db: Db,
  input: { name: string; userId: string },
): Promise<IssuedMachineClient> {
  const clientId = `${MACHINE_CLIENT_PREFIX}${randomBytes(12).toString("base64url")}`;
  const clientSecret = randomBytes(32).toString("base64url");
  const payload = {
    client_id: clientId,
    client_secret: clientSecretDigest(clientSecret),
    client_name: input.name,
    application_type: "web",
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "client_secret_basic",
    [MACHINE_USER_FIELD]: input.userId,
  };
  await db
    .insertInto("oidc_payloads")
    .values({
      kind: "Client",
      id: clientId,
      payload: JSON.stringify(payload),
      grant_id: null,
      user_code: null,
      uid: null,
      expires_at: null,
    })
    .execute();
  return { clientId, clientSecret, name: input.name, userId: input.userId };
}

/** The Ignis user a machine client acts as, or undefined when no such machine client is registered. */
export async function machineClientUser(db: Db, clientId: string): Promise<string | undefined> {
  if (!clientId.startsWith(MACHINE_CLIENT_PREFIX)) return undefined;
  const row = await db
    .selectFrom("oidc_payloads")
    .select("payload")
    .where("kind", "=", "Client")
    .where("id", "=", clientId)
    .executeTakeFirst();
  if (!row) return undefined;
  const payload = (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as Record<
    string,
    unknown
  >;
  const userId = payload[MACHINE_USER_FIELD];
  if (typeof userId !== "string") throw new IgnisError("invalid_token", "the access token is not valid");
  return userId;
}

function payloadOf(row: { payload: unknown }): Record<string, unknown> {
  return (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>;
}

/** The machine clients acting as a user, oldest first. */
export async function listMachineClients(db: Db, userId: string): Promise<MachineClientView[]> {
  const rows = await db
    .selectFrom("oidc_payloads")
    .select(["id", "payload"])
    .where("kind", "=", "Client")
    .where("id", "like", `${MACHINE_CLIENT_PREFIX}%`)
    .orderBy("id")
    .execute();
  return rows
    .map((row) => ({ clientId: row.id, payload: payloadOf(row) }))
    .filter(({ payload }) => payload[MACHINE_USER_FIELD] === userId)
    .map(({ clientId, payload }) => ({ clientId, name: String(payload.client_name ?? ""), userId }));
}

/** The machine client `clientId` of `userId`; another user's client, or none, is `not_found`. */
async function ownedMachineClient(
  db: Db,
  userId: string,
  clientId: string,
): Promise<Record<string, unknown>> {
  const row = clientId.startsWith(MACHINE_CLIENT_PREFIX)
    ? await db
        .selectFrom("oidc_payloads")
        .select("payload")
        .where("kind", "=", "Client")
        .where("id", "=", clientId)
        .forUpdate()
        .executeTakeFirst()
    : undefined;
  const payload = row ? payloadOf(row) : undefined;
  if (!payload || payload[MACHINE_USER_FIELD] !== userId) throw new IgnisError("not_found", "no such object");
  return payload;
}

/**
 * Gives a machine client a new secret (shown once); the old one stops working at once. Tokens it already has
 * stay valid until they expire (the provider's access-token lifetime); delete the client to end them.
 */
export async function rotateMachineClientSecret(
  db: Db,
  userId: string,
  clientId: string,
): Promise<IssuedMachineClient> {
  const payload = await ownedMachineClient(db, userId, clientId);
  const clientSecret = randomBytes(32).toString("base64url");
  await db
    .updateTable("oidc_payloads")
    .set({ payload: JSON.stringify({ ...payload, client_secret: clientSecretDigest(clientSecret) }) })
    .where("kind", "=", "Client")
    .where("id", "=", clientId)
    .execute();
  return { clientId, clientSecret, name: String(payload.client_name ?? ""), userId };
}

/**
 * Deletes a machine client and the tokens the provider stored for it. Its API tokens (JWTs) are refused from
 * then on too: a token naming a client that no longer exists acts as nobody (authenticate.ts).
 */
export async function deleteMachineClient(db: Db, userId: string, clientId: string): Promise<void> {
  await ownedMachineClient(db, userId, clientId);
  await db.deleteFrom("oidc_payloads").where("kind", "=", "Client").where("id", "=", clientId).execute();
  await db
    .deleteFrom("oidc_payloads")
    .where("kind", "in", ["AccessToken", "ClientCredentials"])
    .where(sql<string>`payload->>'clientId'`, "=", clientId)
    .execute();
}
