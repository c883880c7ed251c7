import { randomBytes } from "node:crypto";
import type { CreatedApiKey, UserView, WhoAmI } from "@ignis/protocol";
import type { z } from "zod";
import { apiRequest } from "../api-client.js";

/** The supplier whose key enrolls the simulated devices. */
export interface SimSupplier {
  userId: string;
  apiKey: string;
  /** True when the sim made this supplier with an admin key. */
  created: boolean;
}

/**
 * Finds who the key belongs to: a supplier's key is used as it is; an admin key makes a fresh supplier user and
 * an API key for it (expiring after a week), so the simulated fleet never belongs to the admin.
 */
export async function resolveSimSupplier(server: string, apiKey: string): Promise<SimSupplier> {
  const me = await apiRequest<z.infer<typeof WhoAmI>>(server, "/v1/me", { token: apiKey });
  if (me.roles.includes("supplier")) return { userId: me.id, apiKey, created: false };
  if (!me.roles.includes("admin")) {
    throw new Error(
      `the key's user has roles [${me.roles.join(", ")}]; ignis sim needs a supplier or an admin key`,
    );
  }
  const email = `sim-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}@sim.ignis.invalid`;
  const user = await apiRequest<UserView>(server, "/v1/admin/users", {
    token: apiKey,
    body: { email, roles: ["supplier"] },
  });
  const key = await apiRequest<z.infer<typeof CreatedApiKey>>(
    server,
    `/v1/admin/users/${encodeURIComponent(user.id)}/api-keys`,
    {
      token: apiKey,
      body: { name: "ignis sim", expiresInDays: 7 },
    },
  );
  return { userId: user.id, apiKey: key.key, created: true };
}
