import { createHmac } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { request } from "node:https";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

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

/** IPv6 ranges that carry an IPv4 address in their last 32 bits: classified by that address. */
const EMBEDS_IPV4_TAIL = new Set(["ipv4Mapped", "rfc6145"]);
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

/**
 * True for an address on the public internet. Classification is ipaddr.js's table of special-purpose ranges
 * (IANA's IPv4 and IPv6 registries): anything but plain `unicast` is refused, for IPv4 (private, loopback,
 * link-local, CGNAT, documentation, benchmarking, AS112, AMT, multicast, reserved) and IPv6 (unique-local,
 * link-local, discard, documentation, ORCHID, multicast...). IPv4-mapped/translated addresses and the
 * well-known NAT64 prefix 64:ff9b::/96 are judged by the IPv4 address they carry; the other transition
 * prefixes (6to4 2002::/16, local-use NAT64 64:ff9b:1::/48, Teredo 2001::/32) reach an IPv4 host through a
 * relay whose route we cannot check, so they are refused whatever they embed.
 */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip) || isIP(ip) === 0) return false;
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === "ipv4") return parsed.range() === "unicast";
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  if (EMBEDS_IPV4_TAIL.has(range) || (range === "rfc6052" && v6.match(NAT64_WELL_KNOWN))) {
    const bytes = v6.toByteArray().slice(12);
    return isPublicAddress(bytes.join("."));
  }
  return range === "unicast";
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
