/**
 * A verified fleet in a scratch PostgreSQL database, as a running network's devices are: a few devices enrolled
 * over HTTP, the rest copies of the first with keys of their own (enrolling thousands over HTTP takes minutes
 * and measures nothing a session bench is about), all given a passed proof of GPU, so a session open is a
 * handshake and not a new device's first challenge.
 */
import pg from "pg";
import { generateDeviceKey } from "../apps/cli/src/worker/device-key.js";
import { newId } from "../apps/server/src/db/new-id.js";
import type { LeanDevice } from "./_heartbeat-load.js";

/** Copies `enrolled[0]` until the fleet has `count` devices, then marks every device verified; returns them all. */
export async function seedVerifiedFleet(
  databaseUrl: string,
  enrolled: LeanDevice[],
  count: number,
): Promise<LeanDevice[]> {
  const copies = Array.from({ length: Math.max(0, count - enrolled.length) }, () => ({
    deviceId: newId("dev"),
    keyId: newId("dk"),
    key: generateDeviceKey(),
  }));
  const seed = new pg.Client({ connectionString: databaseUrl });
  await seed.connect();
  await seed.query(
    `insert into devices select (jsonb_populate_record(null::devices, to_jsonb(d) || jsonb_build_object('id', n.id))).*
     from devices d, unnest($1::text[]) as n(id) where d.id = $2`,
    [copies.map((c) => c.deviceId), enrolled[0]!.deviceId],
  );
  await seed.query(
    `insert into device_keys select (jsonb_populate_record(null::device_keys, to_jsonb(k) ||
       jsonb_build_object('id', n.id, 'device_id', n.device_id, 'public_key', n.public_key))).*
     from device_keys k, unnest($1::text[], $2::text[], $3::text[]) as n(id, device_id, public_key)
     where k.device_id = $4`,
    [
      copies.map((c) => c.keyId),
      copies.map((c) => c.deviceId),
      copies.map((c) => c.key.publicKey),
      enrolled[0]!.deviceId,
    ],
  );
  await seed.query(
    `insert into proof_challenges (id, device_id, profile, gpu_count, n, inner_dim, batch, reveal_rows, expected_ms,
       deadline_ms, rtt_ms, trigger, replica, issued_at, decided_at, outcome)
     select md5(id), id, 'sim-a100', 1, 64, 128, 2, 87, 7, 2000, 1, 'connect', 'bench', now(), now(), 'pass'
     from devices`,
  );
  await seed.query(`update devices set verification = 'verified', proven_at = now()`);
  await seed.end();
  return [...enrolled, ...copies.map((c) => ({ deviceId: c.deviceId, key: c.key }))];
}
