import { createHash, randomBytes } from "node:crypto";
import { tierOf } from "@ignis/protocol";
import { recordLink } from "../connectivity/link-store.js";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { insertDeviceRows } from "../testing/device-rows.js";
import { epochAt, slotsPerEpoch } from "./epoch-window.js";

/** A seeded device with the facts a privacy or explorer test checks against. */
export interface SeededDevice {
  id: string;
  ownerId: string;
  label: string;
  labelPublic: boolean;
  status: "pending" | "online" | "offline" | "hired" | "quarantined" | "revoked";
  model: string;
  vendor: string;
}

/** What was seeded, including every string that must never appear in a public response. */
export interface SeededNetwork {
  users: { id: string; email: string; keyId: string }[];
  devices: SeededDevice[];
  /** Owner ids, e-mails, key ids, addresses, hostnames, exact coordinates and private labels. */
  secrets: string[];
}

const MODELS = [
  { vendor: "nvidia", model: "NVIDIA A100", vramGb: 80, profile: "sim-a100" },
  { vendor: "nvidia", model: "NVIDIA H100", vramGb: 80, profile: "sim-h100" },
  { vendor: "nvidia", model: "NVIDIA RTX 4090", vramGb: 24, profile: "sim-rtx4090" },
  { vendor: "amd", model: "AMD Instinct MI300X", vramGb: 192, profile: "amd-mi300x" },
  { vendor: "apple", model: "Apple M2 Ultra (76-core GPU)", vramGb: 192, profile: "apple-m2-ultra" },
];
const REGIONS = ["europe", "north-america", "asia-pacific", "eu-west-1", "Europe/Berlin", "south-america"];
/** Countries the seeded sessions' addresses locate devices in (null: an address that does not locate). */
const COUNTRIES = ["DE", "US", "JP", null, "BR", "FR", "KE"];
const STATUSES: SeededDevice["status"][] = ["online", "online", "offline", "hired", "pending", "quarantined"];

/**
 * Writes a realistic small network straight into the database: users with e-mails and API keys, devices with
 * private and public labels, hardware facts that identify a machine (address, hostname, coordinates), one
 * device per owner revoked three days ago, and uptime rows over the last `epochs` epochs.
 */
export async function seedNetwork(
  db: Db,
  options: { users?: number; devicesPerUser?: number; epochs?: number; epochSeconds: number; now?: number },
): Promise<SeededNetwork> {
  const now = options.now ?? Date.now();
  const out: SeededNetwork = { users: [], devices: [], secrets: [] };
  for (let u = 0; u < (options.users ?? 3); u++) {
    const userId = newId("usr");
    const email = `owner${u}.${randomBytes(3).toString("hex")}@example.org`;
    const keyId = newId("key");
    await db
      .insertInto("users")
      .values({ id: userId, issuer: "local", subject: userId, email, roles: JSON.stringify(["supplier"]) })
      .execute();
    await db
      .insertInto("api_keys")
      .values({
        id: keyId,
        user_id: userId,
        name: "rig automation",
        key_hash: createHash("sha256").update(randomBytes(32)).digest("hex"),
        scopes: JSON.stringify([]),
      })
      .execute();
    out.users.push({ id: userId, email, keyId });
    out.secrets.push(userId, email, keyId);
    const count = options.devicesPerUser ?? 4;
    for (let d = 0; d <= count; d++) {
      const m = MODELS[(u + d) % MODELS.length]!;
      const status: SeededDevice["status"] =
        d === count ? "revoked" : STATUSES[(u * 7 + d) % STATUSES.length]!;
      const labelPublic = d % 2 === 0 && status !== "revoked";
      const label = labelPublic ? `Public rig ${u}-${d}` : `private-${randomBytes(5).toString("hex")}`;
      const ip = `203.0.113.${10 + u * 10 + d}`;
      const hostname = `rig-${randomBytes(3).toString("hex")}.home.example.net`;
      const lat = (48 + u + d / 10).toFixed(5);
      const lon = (11 + u + d / 10).toFixed(5);
      const id = newId("dev");
      await insertDeviceRows(db, [
        {
          id,
          owner_id: userId,
          label,
          label_public: labelPublic,
          status,
          verification: status === "quarantined" ? "failed" : d % 3 === 2 ? "unverified" : "verified",
          profile: m.profile,
          gpu_vendor: m.vendor,
          gpu_model: m.model,
          gpu_count: 1 + (d % 4 === 3 ? 7 : 0),
          vram_gb: m.vramGb,
          region: REGIONS[(u + d) % REGIONS.length]!,
          geo_country: COUNTRIES[(u * 3 + d) % COUNTRIES.length]!,
          // An owner declares a country now and then; it shows only where the address did not locate the device.
          declared_country: d % 4 === 1 ? "NL" : null,
          hardware: JSON.stringify({
            hostname,
            ip,
            location: { lat, lon },
            serial: `SN${randomBytes(4).toString("hex")}`,
          }),
          created_at: new Date(now - (10 + u + d) * 86_400_000),
          revoked_at: status === "revoked" ? new Date(now - 3 * 86_400_000) : null,
          verified_at: d % 3 === 2 ? null : new Date(now - 86_400_000),
          proven_at: status !== "quarantined" && d % 3 !== 2 ? new Date(now - 3_600_000) : null,
        },
      ]);
      out.devices.push({ id, ownerId: userId, label, labelPublic, status, model: m.model, vendor: m.vendor });
      out.secrets.push(ip, hostname, lat, lon);
      // A measured link (the owner's view shows it; the explorer shows only its tier): numbers that appear
      // nowhere else, so the crawl sees them if a public answer carries them.
      if (d % 2 === 0) {
        // Seven decimals: a short number such as 41.735 turned up by chance inside other public figures.
        const rttMs = Number(`${41 + u}.${731 + d}0937`);
        const mbps = Number(`${173 + u}.${917 + d}0461`);
        await recordLink(db, id, {
          rttMs,
          mbps,
          tier: tierOf(rttMs, mbps),
          measuredAt: new Date(now - 3_600_000),
        });
        out.secrets.push(String(rttMs), String(mbps));
      }
      if (!labelPublic) out.secrets.push(label);
    }
  }
  await seedUptime(db, out.devices, {
    epochs: options.epochs ?? 48,
    epochSeconds: options.epochSeconds,
    now,
  });
  out.secrets.push(...(await seedChallenges(db, out.devices, now)));
  return out;
}

/**
 * Proof-of-GPU challenges: a pass for every checked device, a failure for quarantined ones, and a pending one,
 * each with the admin-only fields (replica, reason, detail) filled, which the explorer must never show.
 * Returns those admin-only strings.
 */
async function seedChallenges(db: Db, devices: SeededDevice[], now: number): Promise<string[]> {
  const replica = `replica-${randomBytes(4).toString("hex")}`;
  const detail = `row-${randomBytes(4).toString("hex")}-mismatch`;
  const rows = devices
    .filter((d) => d.status !== "pending")
    .flatMap((d, i) =>
      (d.status === "quarantined" ? ["pass", "fail", "timeout"] : ["pass", "pass", "pending"]).map(
        (outcome, k) => ({
          id: randomBytes(16).toString("hex"),
          device_id: d.id,
          profile: "sim-a100",
          gpu_count: 1,
          n: 64,
          inner_dim: 128,
          batch: 2,
          reveal_rows: 87,
          expected_ms: 6.5,
          deadline_ms: 50,
          rtt_ms: 3,
          trigger: "schedule" as const,
          replica,
          issued_at: new Date(now - (k + 1) * 3_600_000 - i * 1000),
          decided_at: outcome === "pending" ? null : new Date(now - (k + 1) * 3_600_000 - i * 1000 + 40),
          outcome: outcome as "pass" | "fail" | "timeout" | "pending",
          reason: outcome === "pass" ? null : "freivalds",
          detail: outcome === "pass" ? null : detail,
        }),
      ),
    );
  if (rows.length > 0) await db.insertInto("proof_challenges").values(rows).execute();
  return [replica, detail];
}

/** Uptime rows for the seeded devices: online devices nearly always up, offline ones half the time. */
async function seedUptime(
  db: Db,
  devices: SeededDevice[],
  options: { epochs: number; epochSeconds: number; now: number },
): Promise<void> {
  const current = epochAt(options.now, options.epochSeconds);
  const slots = slotsPerEpoch(options.epochSeconds);
  const rows = [];
  for (const [i, device] of devices.entries()) {
    // Pending devices never connected; revoked ones stopped before the seeded window.
    if (device.status === "pending" || device.status === "revoked") continue;
    for (let k = 0; k < options.epochs; k++) {
      const up =
        device.status === "offline" ? ((k + i) % 2 === 0 ? slots : 0) : slots - ((k + i) % 3 === 0 ? 1 : 0);
      if (up <= 0) continue;
      const mask = (1n << BigInt(up)) - 1n;
      rows.push({ device_id: device.id, epoch: current - k, minute_mask: mask.toString(), up_minutes: up });
    }
  }
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto("uptime")
      .values(rows.slice(i, i + 500))
      .execute();
}
