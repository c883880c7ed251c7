import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureLink } from "./link-measure.js";

describe("measureLink", () => {
  let server: Server;
  let url: string;
  const hits: string[] = [];
  // 1 MiB answers: the byte bound must cut a download short, not wait for whole documents.
  const big = Buffer.alloc(1024 * 1024, 120);
  /** Whether the server has the upload sink (older servers do not). */
  let sink = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? "");
      if (req.url === "/base/v1/link-test" && sink) {
        let n = 0;
        req.on("data", (chunk: Buffer) => {
          n += chunk.length;
        });
        req.on("end", () => res.end(JSON.stringify({ bytes: n })));
      } else if (req.url === "/base/healthz") res.end('{"status":"ok"}');
      else if (req.url === "/base/openapi.json") res.end(big);
      else res.writeHead(404).end();
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/base`;
  });
  afterAll(() => server.close());

  it("times the small requests and downloads no more than its byte bound", async () => {
    hits.length = 0;
    const link = await measureLink(url, { pings: 3, maxBytes: 1536 * 1024, maxMs: 60_000 });
    expect(link.rttSamplesMs).toHaveLength(3);
    expect(link.rttMs).toBeGreaterThan(0);
    expect(link.bytes).toBeGreaterThanOrEqual(1536 * 1024);
    // One chunk past the bound at most, and two downloads.
    expect(link.bytes).toBeLessThan(1536 * 1024 + 256 * 1024);
    expect(hits.filter((h) => h.endsWith("openapi.json"))).toHaveLength(2);
    expect(link.mbps).toBeGreaterThan(0);
  });

  it("reports no upload figure from a server without the sink, and no error", async () => {
    sink = false;
    const link = await measureLink(url, { pings: 1, maxBytes: 1024, maxMs: 60_000 });
    expect(link).toMatchObject({ uploadMbps: null, uploadBytes: 0 });
  });

  it("uploads no more than its bound, in requests of at most 1 MiB, counting what the server received", async () => {
    sink = true;
    hits.length = 0;
    const link = await measureLink(url, {
      pings: 1,
      maxBytes: 1024,
      maxUploadBytes: 2.5 * 1024 * 1024,
      maxMs: 60_000,
    });
    expect(link.uploadBytes).toBe(2.5 * 1024 * 1024);
    expect(hits.filter((h) => h.endsWith("link-test"))).toHaveLength(3);
    expect(link.uploadMbps).toBeGreaterThan(0);
  });

  it("throws when nothing answers", async () => {
    await expect(measureLink("http://127.0.0.1:9", { pings: 1, timeoutMs: 2000 })).rejects.toThrow();
  });
});
