import { DeviceId, type ExplorerDevicePage, type ExplorerDeviceQuery, IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { memoryProvenAt } from "../proof/memory-proof.js";
import { overlapSlots, share } from "./epoch-window.js";
import {
  HIDDEN_STATUSES,
  PUBLIC_DEVICE_COLUMNS,
  publicTier,
  storedStatuses,
  toPublicDevice,
} from "./public-device.js";
import { uptimeWindows } from "./uptime-history.js";

const ID_PREFIX = "dev_";
const SEARCHABLE = /^[a-z0-9_]+$/;

/**
 * Turns what a user typed into an id prefix: `dev_ab`, `dev` and `ab` (the random part) all work. Returns null
 * when no device id could start with it, so the search answers an empty page without a query.
 */
export function idPrefixOf(q: string): string | null {
  const typed = q.trim().toLowerCase();
  if (!SEARCHABLE.test(typed)) return null;
  if (ID_PREFIX.startsWith(typed) || typed.startsWith(ID_PREFIX)) return typed;
  return `${ID_PREFIX}${typed}`;
}

/** The smallest string greater than every string starting with `prefix` (bytewise). */
function prefixUpperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Encodes the last id of a page as an opaque cursor. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

/** Decodes a cursor, refusing anything this server did not hand out. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!DeviceId.safeParse(id).success) {
    throw new IgnisError("validation_failed", "the cursor is not valid", {
      details: { errors: [{ path: "querystring.cursor", message: "not a cursor from this API" }] },
    });
  }
  return id;
}

/** One page of shown devices, filtered and searched, in id order with a keyset cursor. */
export async function searchPublicDevices(
  db: Db,
  query: ExplorerDeviceQuery,
  options: { now: number; epochSeconds: number },
): Promise<ExplorerDevicePage> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const day = uptimeWindows(options.now, options.epochSeconds).d1;
  let select = db
    .selectFrom("devices")
    .select(PUBLIC_DEVICE_COLUMNS)
    .select(publicTier(options.now).as("link_tier"))
    .select(memoryProvenAt("devices.id").as("memory_proven_at"))
    // Each row's 24-hour up-minutes in the same round trip: one index range per device of the page.
    .select((eb) =>
      eb
        .selectFrom("uptime")
        .select(sql<string>`coalesce(sum(up_minutes), 0)`.as("up"))
        .whereRef("uptime.device_id", "=", "devices.id")
        .where("uptime.epoch", ">=", String(day.epoch))
        .as("up24h"),
    )
    .where("status", "not in", HIDDEN_STATUSES)
    .orderBy("id")
    .limit(query.limit + 1);
  if (query.q) {
    const prefix = idPrefixOf(query.q);
    if (prefix === null) return { items: [], nextCursor: null };
    // The range uses the primary-key index; LIKE keeps the answer exact under any collation.
    select = select
      .where("id", ">=", prefix)
      .where("id", "<", prefixUpperBound(prefix))
      .where("id", "like", `${prefix.replaceAll("_", "\\_")}%`);
  }
  if (query.status) select = select.where("status", "in", storedStatuses(query.status));
  if (query.model) select = select.where("gpu_model", "=", query.model);
  if (query.vendor) select = select.where("gpu_vendor", "=", query.vendor);
  if (after) select = select.where("id", ">", after);
  const rows = await select.execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const uptime24h = (row: (typeof page)[number]) =>
    share(
      Number(row.up24h ?? 0),
      overlapSlots(
        day.startMs,
        options.now,
        new Date(row.created_at).getTime(),
        options.now,
        options.epochSeconds,
      ),
    );
  return {
    items: page.map((row) => toPublicDevice(row, uptime24h(row))),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
  };
}
