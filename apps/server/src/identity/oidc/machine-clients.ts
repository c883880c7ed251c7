import { randomBytes } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import type { Db } from "../../db/database.js";

/** Client ids of machine clients start with this, so they are never mistaken for a user's subject. */
export const MACHINE_CLIENT_PREFIX = "mc_";

/** The client metadata field naming the Ignis user a machine client acts as. */
export const MACHINE_USER_FIELD = "ignis_user_id";

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
 * of its payload table); oidc-provider compares the secret itself, so the row holds it (see docs/auth.md).
 */
export async function registerMachineClient(
  db: Db,
  input: { name: string; userId: string },
): Promise<IssuedMachineClient> {
  const clientId = `${MACHINE_CLIENT_PREFIX}${randomBytes(12).toString("base64url")}`;
  const clientSecret = randomBytes(32).toString("base64url");
  const payload = {
    client_id: clientId,
    client_secret: clientSecret,
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
