import { isIPv6 } from "node:net";
import type { Db } from "../db/database.js";

/** The address as other machines would dial it: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as plain IPv4. */
export function normalizePeerAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

/** `host:port`, with an IPv6 host in brackets so the last colon still separates the port. */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Remembers where a device's session comes from (cluster rendezvous reads it). Writes only when the address
 * changed, so a reconnect from the same place costs a read of one row.
 */
export async function recordSessionAddress(db: Db, deviceId: string, ip: string): Promise<void> {
  const address = normalizePeerAddress(ip);
  await db
    .updateTable("devices")
    .set({ session_address: address })
    .where("id", "=", deviceId)
    .where((eb) => eb.or([eb("session_address", "is", null), eb("session_address", "!=", address)]))
    .execute();
}
