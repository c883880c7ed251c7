import { type Kysely, sql } from "kysely";

/**
 * Machine clients' secrets are kept as SHA-256 digests only (`sha256:<hex>`, identity/oidc/machine-clients.ts):
 * the secrets of clients registered before are replaced by their digests. There is no way back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update oidc_payloads
    set payload = jsonb_set(
      payload,
      '{client_secret}',
      to_jsonb('sha256:' || encode(sha256(convert_to(payload->>'client_secret', 'UTF8')), 'hex'))
    )
    where kind = 'Client' and id like 'mc\\_%' and payload ? 'client_secret'
      and payload->>'client_secret' not like 'sha256:%'`.execute(db);
}

/** A digest cannot be turned back into its secret: nothing to undo. */
export async function down(): Promise<void> {}
