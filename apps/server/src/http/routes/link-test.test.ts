import { afterAll, beforeAll, expect, it } from "vitest";
import { measureLink } from "../../../../cli/src/worker/link-measure.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";
import { LINK_TEST_MAX_BYTES } from "./link-test.js";

describeEachDialect("the upload speed sink", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
  });
  afterAll(() => t.stop());

  const post = (body: Buffer, type = "application/octet-stream") =>
    fetch(`${t.url}/v1/link-test`, {
      method: "POST",
      headers: { "content-type": type },
      body: new Uint8Array(body),
    });

  it("counts the bytes it was sent, keeps nothing, and audits the request", async () => {
    const res = await post(Buffer.alloc(300_000, 7));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: 300_000 });
    const audited = await t.server.ctx.db
      .selectFrom("audit_log")
      .select(["action", "outcome", "actor_type"])
      .where("action", "=", "link.upload-test")
      .execute();
    expect(audited).toContainEqual({ action: "link.upload-test", outcome: "ok", actor_type: "anonymous" });
  });

  it("refuses more than 1 MiB, and bodies that are not raw bytes, with a problem and a stable code", async () => {
    const big = await post(Buffer.alloc(LINK_TEST_MAX_BYTES + 1));
    expect(big.status).toBe(413);
    expect(big.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(await big.json()).toMatchObject({ status: 413, code: expect.any(String) });
    const json = await post(Buffer.from('{"bytes": 1000000}'), "application/json");
    expect(await json.json()).toEqual({ bytes: 0 });
  });

  it("gives ignis doctor an upload figure next to the download", async () => {
    // Bounded by bytes only: under load the default 3-s bound ended the upload after its first 1-MiB request.
    const link = await measureLink(t.url, {
      pings: 1,
      maxBytes: 256 * 1024,
      maxUploadBytes: 1536 * 1024,
      maxMs: 120_000,
      timeoutMs: 120_000,
    });
    expect(link.uploadBytes).toBe(1536 * 1024);
    expect(link.uploadMbps).toBeGreaterThan(0);
  });
});
