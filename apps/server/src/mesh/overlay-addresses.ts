/**
 * The overlay's address plan: one /12 (`10.96.0.0/12` ... `10.111.255.255`) for every cluster, with the
 * lighthouse at `10.96.0.1` and cluster slot `s` (1 ... 4095) owning the /24 `10.96.0.0 + s × 256`, its rank
 * `r` at `.r+1`. Every node's certificate carries the /12 prefix so the lighthouse lies inside its network;
 * clusters are kept apart by their CAs and firewalls, not by routing.
 */

/** First address of the overlay range. */
const BASE = ip4ToInt("10.96.0.0");
/** Prefix length every node's address carries. */
export const OVERLAY_PREFIX = 12;
/** Highest cluster slot (slot 0 is the lighthouse's). */
export const MAX_SLOT = 4095;
/** Most ranks a cluster's /24 can address (.1 ... .254). */
export const MAX_MESH_RANKS = 254;
/** The lighthouse's overlay address. */
export const LIGHTHOUSE_ADDR = intToIp4(BASE + 1);

/** An IPv4 address as an unsigned integer. */
export function ip4ToInt(addr: string): number {
  return addr.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** An unsigned integer as an IPv4 address. */
export function intToIp4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The /24 a cluster slot owns, e.g. `10.96.5.0/24`. */
export function slotSubnet(slot: number): string {
  return `${intToIp4(BASE + slot * 256)}/24`;
}

/** The overlay address of a rank in a cluster slot. */
export function rankAddr(slot: number, rank: number): string {
  if (!Number.isInteger(rank) || rank < 0 || rank >= MAX_MESH_RANKS) {
    throw new RangeError(`rank ${rank} has no overlay address (at most ${MAX_MESH_RANKS} ranks)`);
  }
  return intToIp4(BASE + slot * 256 + rank + 1);
}

/** The overlay addresses of ranks 0 ... count-1 of a slot. */
export function slotPeers(slot: number, count: number): string[] {
  return Array.from({ length: count }, (_, rank) => rankAddr(slot, rank));
}
