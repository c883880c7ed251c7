import { isIPv6 } from "node:net";

/** The address as other machines would dial it: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as plain IPv4. */
export function normalizePeerAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

/** `host:port`, with an IPv6 host in brackets so the last colon still separates the port. */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
