import { afterAll, beforeAll, expect, it } from "vitest";
import { newId } from "../../../db/new-id.js";
import { describeEachDialect } from "../../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../../testing/test-server.js";

describeEachDialect("label visibility on the explorer", (database) => {
  let t: TestServer;
  let owner: string;
  let other: string;
  let deviceId: string;

  const call = (method: string, path: string, key?: string, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** A supplier with an API key, made through the admin routes. */
  const supplier = async (email: string) => {
    const user = (await (
      await call("POST", "/v1/admin/users", t.adminKey, { email, roles: ["supplier"] })
    ).json()) as {
      id: string;
    };
    const { key } = (await (
      await call("POST", `/v1/admin/users/${user.id}/api-keys`, t.adminKey, { name: "test" })
    ).json()) as { key: string };
    return { id: user.id, key };
  };

  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    const a = await supplier("label-owner@example.org");
    const b = await supplier("label-other@example.org");
    owner = a.key;
    other = b.key;
    deviceId = newId("dev");
    await t.server.ctx.db
      .insertInto("devices")
      .values({
        id: deviceId,
        owner_id: a.id,
        label: "rack 7, Alice's garage",
        status: "online",
        profile: "sim-a100",
        gpu_vendor: "nvidia",
        gpu_model: "NVIDIA A100",
        gpu_count: 1,
        vram_gb: 80,
        hardware: JSON.stringify({}),
      })
      .execute();
  });
  afterAll(() => t.stop());

  const publicLabel = async () =>
    ((await (await call("GET", `/v1/explorer/devices/${deviceId}`)).json()) as { label: string | null })
      .label;

  it("keeps a new device's label off the explorer", async () => {
    expect(await publicLabel()).toBeNull();
  });

  it("shows the label once its owner makes it public, and hides it again on request", async () => {
    const shown = await call("PUT", `/v1/devices/${deviceId}/label-visibility`, owner, { public: true });
    expect(shown.status).toBe(200);
    expect(await shown.json()).toEqual({ deviceId, labelPublic: true });
    expect(await publicLabel()).toBe("rack 7, Alice's garage");
    await call("PUT", `/v1/devices/${deviceId}/label-visibility`, owner, { public: false });
    expect(await publicLabel()).toBeNull();
  });

  it("answers another supplier and the admin as if the device did not exist, and changes nothing", async () => {
    for (const key of [other, t.adminKey]) {
      const res = await call("PUT", `/v1/devices/${deviceId}/label-visibility`, key, { public: true });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
    }
    expect(await publicLabel()).toBeNull();
  });

  it("refuses anonymous callers and any field besides public", async () => {
    expect(
      (await call("PUT", `/v1/devices/${deviceId}/label-visibility`, undefined, { public: true })).status,
    ).toBe(401);
    const extra = await call("PUT", `/v1/devices/${deviceId}/label-visibility`, owner, {
      public: true,
      label: "x",
    });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { code: string }).code).toBe("unknown_field");
  });

  it("writes the change to the audit log with the before and after values", async () => {
    const res = await call(
      "GET",
      `/v1/admin/audit?object=${deviceId}&action=device.label-visibility`,
      t.adminKey,
    );
    const { items } = (await res.json()) as {
      items: { outcome: string; details: Record<string, unknown> }[];
    };
    expect(
      items.some((i) => i.outcome === "ok" && i.details.before === false && i.details.after === true),
    ).toBe(true);
  });
});
