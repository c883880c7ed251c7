import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublicAddress, resolveWebhookTarget, sendWebhook, signWebhookBody } from "./alert-webhook.js";

const SECRET = "a-webhook-secret-of-some-length";

function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "ignis-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } catch {
    console.warn("[ignis tests] openssl unavailable: skipping the webhook delivery test");
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("alert webhook target checks", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "64:ff9b::a9fe:a9fe",
    // 6to4 (even of a public IPv4), local-use NAT64, Teredo: relayed to an IPv4 host we cannot vet.
    "2002:7f00:1::1",
    "2002:0808:0808::1",
    "64:ff9b:1::a9fe:a9fe",
    "64:ff9b:1::808:808",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    // IPv4-translated (RFC 6145), documentation, benchmarking, ORCHIDv2, discard, site-local, multicast.
    "::ffff:0:7f00:1",
    "2001:db8::1",
    "2001:2::1",
    "2001:20::1",
    "100::1",
    "fec0::1",
    "ff02::1",
    // IPv4 special-purpose: documentation, benchmarking, AS112, broadcast, reserved.
    "192.0.2.1",
    "198.18.0.1",
    "192.175.48.1",
    "255.255.255.255",
    "240.0.0.1",
    "not an address",
  ])("treats %s as non-public", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "treats %s as public",
    (ip) => {
      expect(isPublicAddress(ip)).toBe(true);
    },
  );

  it("refuses plain http, credentials in the URL and literal private addresses", async () => {
    expect(await resolveWebhookTarget("http://hooks.example.com/x", false)).toMatchObject({ ok: false });
    expect(await resolveWebhookTarget("https://u:p@hooks.example.com/x", false)).toMatchObject({ ok: false });
    for (const url of [
      "https://127.0.0.1/",
      "https://[::1]/",
      "https://2130706433/",
      "https://169.254.169.254/latest",
    ]) {
      expect(await resolveWebhookTarget(url, false)).toMatchObject({ ok: false });
    }
  });

  it("checks every resolved address at send time, so one private answer among public ones is refused", async () => {
    const rebinding = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ];
    const target = await resolveWebhookTarget("https://hooks.example.com/x", false, rebinding);
    expect(target).toEqual({ ok: false, reason: expect.stringContaining("10.0.0.5") });
    const pub = await resolveWebhookTarget("https://hooks.example.com/x", false, async () => [
      { address: "93.184.216.34", family: 4 },
    ]);
    expect(pub).toMatchObject({ ok: true, address: "93.184.216.34" });
  });

  it("sends nothing to a refused target", async () => {
    const outcome = await sendWebhook(
      { url: "https://metadata.internal/", secret: SECRET, allowPrivate: false },
      { hello: "world" },
      { lookup: async () => [{ address: "169.254.169.254", family: 4 }] },
    );
    expect(outcome).toMatchObject({ outcome: "refused" });
  });
});

describe("alert webhook delivery", () => {
  const tls = selfSignedCertificate();
  let server: Server | undefined;
  const received: { headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    if (!tls) return;
    server = createServer(tls, (req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it.skipIf(!tls)("posts a body signed with HMAC-SHA256 that the receiver can verify", async () => {
    const port = (server!.address() as AddressInfo).port;
    const outcome = await sendWebhook(
      { url: `https://localhost:${port}/hooks/ignis`, secret: SECRET, allowPrivate: true },
      { type: "ignis.security.alert", alert: { id: "alr_x" } },
      { ca: tls!.cert, lookup: async () => [{ address: "127.0.0.1", family: 4 }] },
    );
    expect(outcome).toEqual({ outcome: "sent", status: 204, address: "127.0.0.1" });
    const [delivery] = received;
    const timestamp = String(delivery!.headers["x-ignis-timestamp"]);
    expect(delivery!.headers["x-ignis-signature"]).toBe(signWebhookBody(SECRET, timestamp, delivery!.body));
    expect(JSON.parse(delivery!.body)).toEqual({ type: "ignis.security.alert", alert: { id: "alr_x" } });
  });

  it.skipIf(!tls)("refuses the same local receiver when private targets are not allowed", async () => {
    const port = (server!.address() as AddressInfo).port;
    const before = received.length;
    const outcome = await sendWebhook(
      { url: `https://localhost:${port}/hooks/ignis`, secret: SECRET, allowPrivate: false },
      { x: 1 },
      { ca: tls!.cert },
    );
    expect(outcome).toMatchObject({ outcome: "refused" });
    expect(received.length).toBe(before);
  });
});
