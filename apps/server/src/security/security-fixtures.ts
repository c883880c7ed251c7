import type { Role } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { issueApiKey } from "../identity/api-keys.js";
import { insertUser } from "../identity/users.js";
import { insertDeviceRows } from "../testing/device-rows.js";

/** A user made for a security test, with one API key. */
export interface FixtureUser {
  userId: string;
  keyId: string;
  key: string;
}

/** Creates a local user with the given roles and issues them an API key (test fixture). */
export async function createUserWithKey(db: Db, roles: Role[], email?: string): Promise<FixtureUser> {
  const user = await insertUser(db, {
    issuer: "local",
    email: email ?? `${roles.join("-") || "user"}-${newId("usr").slice(4, 14)}@example.test`,
    roles,
  });
  const issued = await issueApiKey(db, { userId: user.id, name: "fixture" });
  return { userId: user.id, keyId: issued.id, key: issued.key };
}

/**
 * Inserts devices straight into the table, as enrolled simulated A100s owned by a supplier (test fixture for
 * scenarios that need hundreds of devices without running hundreds of workers).
 */
export async function insertDevices(
  db: Db,
  ownerId: string,
  count: number,
  options: { status?: "pending" | "online" | "offline"; labelPrefix?: string } = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId("dev"));
  const hardware = {
    profile: "sim-a100",
    gpu: { vendor: "nvidia", model: "NVIDIA A100 (simulated)", count: 1, vramGb: 80, driver: null },
  };
  for (let i = 0; i < ids.length; i += 200) {
    await insertDeviceRows(
      db,
      ids.slice(i, i + 200).map((id, j) => ({
        id,
        owner_id: ownerId,
        label: `${options.labelPrefix ?? "rack"}-${i + j}`,
        status: options.status ?? "offline",
        profile: "sim-a100",
        gpu_vendor: "nvidia",
        gpu_model: "NVIDIA A100 (simulated)",
        gpu_count: 1,
        vram_gb: 80,
        hardware: JSON.stringify(hardware),
      })),
    );
  }
  return ids;
}
