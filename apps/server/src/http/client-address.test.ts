import { request as httpRequest, type IncomingMessage } from "node:http";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { clientAddress, trustProxyOption } from "./client-address.js";

/**
 * The worker socket's upgrade is served before Fastify's router, so it reads the client's address itself. It must
 * read exactly what `request.ip` reads under the same `IGNIS_TRUST_PROXY`, or a flooder could dodge the
 * per-address socket cap with a forged X-Forwarded-For, or a farm behind a trusted proxy would share one cap.
 */
describe("clientAddress", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  /** Fastify's `request.ip` and `clientAddress` for the same request, under the same trust. */
  async function both(trust: boolean | number | string[], forwardedFor?: string) {
    const option = trustProxyOption(trust);
    const ours = clientAddress(option);
    let raw: IncomingMessage | undefined;
    const app = Fastify({ trustProxy: option });
    app.get("/", async (request) => {
      raw = request.raw;
      return { ip: request.ip };
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    close = () => app.close();
    const port = (app.server.address() as { port: number }).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          port,
          host: "127.0.0.1",
          path: "/",
          headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
        },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    return { fastify: (JSON.parse(body) as { ip: string }).ip, ours: ours(raw!) };
  }

  const cases: { trust: boolean | number | string[]; forwardedFor?: string; ip: string }[] = [
    { trust: false, forwardedFor: "203.0.113.7", ip: "127.0.0.1" },
    { trust: false, ip: "127.0.0.1" },
    { trust: true, forwardedFor: "198.51.100.1, 203.0.113.7", ip: "198.51.100.1" },
    { trust: ["127.0.0.1"], forwardedFor: "198.51.100.1, 203.0.113.7", ip: "203.0.113.7" },
    { trust: ["127.0.0.1", "203.0.113.0/24"], forwardedFor: "198.51.100.1, 203.0.113.7", ip: "198.51.100.1" },
    { trust: ["10.0.0.1"], forwardedFor: "203.0.113.7", ip: "127.0.0.1" },
    { trust: ["loopback"], ip: "127.0.0.1" },
    { trust: 1, forwardedFor: "198.51.100.1, 203.0.113.7", ip: "203.0.113.7" },
    { trust: 2, forwardedFor: "198.51.100.1, 203.0.113.7", ip: "198.51.100.1" },
  ];
  for (const c of cases) {
    it(`reads ${c.ip} under trust ${JSON.stringify(c.trust)} with X-Forwarded-For ${c.forwardedFor ?? "absent"}, as request.ip does`, async () => {
      const { fastify, ours } = await both(c.trust, c.forwardedFor);
      expect(ours).toBe(fastify);
      expect(ours).toBe(c.ip);
    });
  }
});
