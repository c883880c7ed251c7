import { createHmac } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { request } from "node:https";
import { BlockList, isIP } from "node:net";

/** The webhook as configured (`IGNIS_ALERT_WEBHOOK_URL`, `_SECRET`, `_ALLOW_PRIVATE`). */
export interface WebhookConfig {
  url: string | undefined;
  secret: string | undefined;
  allowPrivate: boolean;
}

/** How a delivery went; `refused` means nothing was sent because the target failed the SSRF checks. */
export type WebhookOutcome =
  | { outcome: "sent"; status: number; address: string }
  | { outcome: "refused"; reason: string }
  | { outcome: "failed"; reason: string };

/** Test seams: a resolver and extra trusted CAs. */
export interface WebhookTransport {
  lookup?: (hostname: string) => Promise<LookupAddress[]>;
  ca?: string;
  timeoutMs?: number;
}

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  NON_PUBLIC.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  NON_PUBLIC.addSubnet(net, bits, "ipv6");

/** The IPv4 address embedded in an IPv4-mapped, -compatible or NAT64 IPv6 address, if any. */
function embeddedIpv4(ip: string): string | null {
  const m = /^(?:::ffff:(?:0:)?|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (m) {
    const hi = Number.parseInt(m[1]!, 16);
    const lo = Number.parseInt(m[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const dotted = /^(?:::ffff:(?:0:)?|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return dotted ? dotted[1]! : null;
}

/** True for an address on the public internet: not loopback, private, link-local, CGNAT, reserved or multicast. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !NON_PUBLIC.check(ip, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedIpv4(ip);
  if (v4) return isPublicAddress(v4);
  return !NON_PUBLIC.check(ip, "ipv6");
}

/** The signature header value: HMAC-SHA256 over `timestamp.body` with the shared secret, hex. */
export function signWebhookBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * Checks a webhook URL at send time: https only, no credentials in it, and every address its host resolves to
 * public (unless private targets are allowed). Returns the one address to connect to, so a DNS answer that
 * changes between the check and the connection (rebinding) cannot redirect the request.
 */
export async function resolveWebhookTarget(
  rawUrl: string,
  allowPrivate: boolean,
  lookup: (hostname: string) => Promise<LookupAddress[]> = (h) => dnsLookup(h, { all: true, verbatim: true }),
): Promise<{ ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: "not a URL" };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "the webhook must use https" };
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host);
  } catch (error) {
    return { ok: false, reason: `cannot resolve the host (${(error as Error).message})` };
  }
  if (addresses.length === 0) return { ok: false, reason: "the host has no address" };
  const nonPublic = addresses.filter((a) => !isPublicAddress(a.address));
  if (nonPublic.length > 0 && !allowPrivate) {
    return { ok: false, reason: `the host resolves to a non-public address (${nonPublic[0]!.address})` };
  }
  const chosen = addresses[0]!;
  return { ok: true, url, address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

/** Posts a JSON payload to the webhook, signed, pinned to the checked address; never follows redirects. */
export async function sendWebhook(
  config: WebhookConfig,
  payload: unknown,
  transport: WebhookTransport = {},
): Promise<WebhookOutcome> {
  if (!config.url || !config.secret) return { outcome: "refused", reason: "no webhook configured" };
  const target = await resolveWebhookTarget(config.url, config.allowPrivate, transport.lookup);
  if (!target.ok) return { outcome: "refused", reason: target.reason };
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  return new Promise((resolve) => {
    const req = request(
      {
        protocol: "https:",
        host: target.url.hostname.replace(/^\[|\]$/g, ""),
        port: target.url.port || 443,
        path: `${target.url.pathname}${target.url.search}`,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "ignis-alerts/1",
          "x-ignis-timestamp": timestamp,
          "x-ignis-signature": signWebhookBody(config.secret!, timestamp, body),
        },
        // Connect only to the address that passed the checks.
        lookup: ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) =>
          opts?.all
            ? callback(null, [{ address: target.address, family: target.family }])
            : callback(null, target.address, target.family)) as never,
        ...(transport.ca ? { ca: transport.ca } : {}),
        timeout: transport.timeoutMs ?? 5000,
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ outcome: "sent", status: res.statusCode ?? 0, address: target.address }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => resolve({ outcome: "failed", reason: error.message }));
    req.end(body);
  });
}
