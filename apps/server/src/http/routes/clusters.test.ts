import { afterAll, beforeAll, expect, it } from "vitest";
import { insertDevices } from "../../market/market-fixtures.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const MODEL = "NVIDIA A100 SXM 80GB";

describeEachDialect("cluster, credit and price routes", (database) => {
  let t: TestServer;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    for (const [name, roles] of Object.entries({
      alice: ["customer"],
      bob: ["customer"],
      sam: ["supplier"],
      eve: ["supplier"],
    })) {
      const user = await (
        await call("POST", "/v1/admin/users", t.adminKey, { email: `${name}@example.com`, roles })
      ).json();
      ids[name] = (user as { id: string }).id;
      const key = await (
        await call("POST", `/v1/admin/users/${ids[name]}/api-keys`, t.adminKey, { name })
      ).json();
      keys[name] = (key as { key: string }).key;
    }
  });
  afterAll(() => t.stop());

  const call = (method: string, path: string, key?: string, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async (res: Response) => ({
    status: res.status,
    type: res.headers.get("content-type"),
    body: (await res.json()) as Record<string, unknown>,
  });

  it("lets an admin grant credit as a string or an integer and answers with the new balance", async () => {
    const first = await json(
      await call("POST", "/v1/admin/credits", t.adminKey, { userId: ids.alice, amount: "5000000" }),
    );
    expect(first).toMatchObject({
      status: 201,
      body: { userId: ids.alice, balance: "5000000", amount: "5000000", unit: "micro" },
    });
    const second = await json(
      await call("POST", "/v1/admin/credits", t.adminKey, {
        userId: ids.alice,
        amount: 2500000,
        reference: "topup-1",
      }),
    );
    expect(second.body).toMatchObject({ balance: "7500000", reference: "topup-1" });
    const retried = await json(
      await call("POST", "/v1/admin/credits", t.adminKey, {
        userId: ids.alice,
        amount: 2500000,
        reference: "topup-1",
      }),
    );
    expect(retried.body.balance).toBe("7500000");
    expect((await json(await call("GET", "/v1/credits", keys.alice))).body).toMatchObject({
      balance: "7500000",
      held: "0",
    });
  });

  it("refuses credit grants from non-admins, to unknown users and of bad amounts", async () => {
    expect(
      (await call("POST", "/v1/admin/credits", keys.alice, { userId: ids.alice, amount: "1" })).status,
    ).toBe(403);
    expect(
      (
        await call("POST", "/v1/admin/credits", t.adminKey, {
          userId: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
          amount: "1",
        })
      ).status,
    ).toBe(404);
    for (const amount of ["1.5", "-1", 0, "abc"]) {
      const res = await json(
        await call("POST", "/v1/admin/credits", t.adminKey, { userId: ids.bob, amount }),
      );
      expect(res.status, String(amount)).toBe(400);
      expect(res.type).toContain("application/problem+json");
    }
  });

  it("lets only the owner set a device's price, and shows it back", async () => {
    const [device] = await insertDevices(t.server.ctx.db, {
      ownerId: ids.sam!,
      count: 1,
      seenAt: Date.now(),
      model: MODEL,
      profile: "nvidia-a100-80gb",
    });
    const path = `/v1/devices/${device}/price`;
    expect((await call("PUT", path, keys.eve, { minPricePerHour: "1" })).status).toBe(404);
    const set = await json(await call("PUT", path, keys.sam, { minPricePerHour: "1500000" }));
    expect(set.body).toEqual({
      deviceId: device,
      minPricePerHour: "1500000",
      defaultPricePerHour: "1200000",
      effectivePricePerHour: "1500000",
    });
    expect((await json(await call("PUT", path, keys.sam, { minPricePerHour: "1.5" }))).body.code).toBe(
      "invalid_price",
    );
    const cleared = await json(await call("PUT", path, keys.sam, { minPricePerHour: null }));
    expect(cleared.body).toMatchObject({ minPricePerHour: null, effectivePricePerHour: "1200000" });
    const offers = await json(await call("GET", "/v1/market/offers"));
    expect(offers.body.items).toEqual(
      expect.arrayContaining([
        { gpuModel: MODEL, available: 1, lowestPricePerHour: "1200000", defaultPricePerHour: "1200000" },
      ]),
    );
  });

  it("rents a cluster for its customer, shows it to them and to admins, and to nobody else", async () => {
    await insertDevices(t.server.ctx.db, {
      ownerId: ids.sam!,
      count: 1,
      seenAt: Date.now(),
      model: MODEL,
      profile: "nvidia-a100-80gb",
    });
    const created = await json(
      await call("POST", "/v1/clusters", keys.alice, {
        gpuModel: "nvidia-a100-80gb",
        count: 2,
        hours: 1,
        job: { command: "echo", args: ["hi"], env: { TOKEN: "secret" } },
      }),
    );
    expect(created).toMatchObject({
      status: 201,
      body: { status: "pending", gpuModel: MODEL, count: 2, escrow: { held: "2400000" } },
    });
    const id = created.body.id as string;
    expect(created.body.job).toEqual({
      command: "echo",
      args: ["hi"],
      envNames: ["TOKEN"],
      image: null,
      archiveBytes: 0,
    });
    expect(JSON.stringify(created.body)).not.toContain("secret");
    expect((await call("GET", `/v1/clusters/${id}`, keys.alice)).status).toBe(200);
    expect((await call("GET", `/v1/clusters/${id}`, t.adminKey)).status).toBe(200);
    expect((await call("GET", `/v1/clusters/${id}`, keys.bob)).status).toBe(404);
    expect((await call("POST", `/v1/clusters/${id}/cancel`, keys.bob)).status).toBe(404);
    expect((await call("GET", `/v1/clusters/${id}/logs`, keys.bob)).status).toBe(404);
    expect((await call("GET", "/v1/clusters/nope", keys.alice)).status).toBe(404);
    expect(
      (
        await call("POST", "/v1/clusters", keys.sam, {
          gpuModel: MODEL,
          count: 1,
          hours: 1,
          job: { command: "x" },
        })
      ).status,
    ).toBe(403);
    const list = await json(await call("GET", "/v1/clusters", keys.alice));
    expect((list.body.items as { id: string }[]).map((c) => c.id)).toEqual([id]);
    expect(((await json(await call("GET", "/v1/clusters", keys.bob))).body.items as unknown[]).length).toBe(
      0,
    );
    expect((await json(await call("GET", "/v1/credits", keys.alice))).body).toMatchObject({
      balance: "5100000",
      held: "2400000",
    });
    const logs = await json(await call("GET", `/v1/clusters/${id}/logs`, keys.alice));
    expect(logs.body).toEqual({ items: [], nextCursor: null });
    const cancelled = await json(await call("POST", `/v1/clusters/${id}/cancel`, keys.alice));
    expect(cancelled.body).toMatchObject({ status: "cancelled", escrow: { remaining: "0" } });
    const again = await json(await call("POST", `/v1/clusters/${id}/cancel`, keys.alice));
    expect(again).toMatchObject({ status: 409, body: { code: "cluster_not_cancellable" } });
  });

  it("answers each bad rental with 400 problem+json and its code, and 402 for too little credit", async () => {
    const base = { gpuModel: MODEL, count: 1, hours: 1, job: { command: "x" } };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ count: 0 }, 400, "invalid_count"],
      [{ count: 10_000 }, 400, "invalid_count"],
      [{ hours: 0 }, 400, "invalid_hours"],
      [{ hours: 100_000 }, 400, "invalid_hours"],
      [{ gpuModel: "Imaginary 9000" }, 400, "unknown_gpu_model"],
      [{ job: { command: "x", env: { lower: "1" } } }, 400, "invalid_env_name"],
      [{ job: { command: "x", env: { IGNIS_HEAD_ADDR: "evil:1" } } }, 400, "reserved_env_name"],
      [{ job: { command: "x", archive: "H4sI".repeat(1_420_000) } }, 400, "job_spec_too_large"],
      [{ job: { command: "x" }, owner: "usr_x" }, 400, "unknown_field"],
      [{ job: { command: "x", image: "--privileged" } }, 400, "invalid_image"],
      [{ job: { command: "x", image: "-v=/:/host" } }, 400, "invalid_image"],
      [{ job: { command: "x", image: "python:3.12 --net=host" } }, 400, "invalid_image"],
      [{ job: { command: "x", args: "--privileged" } }, 400, "invalid_job_args"],
      [{ job: { command: "x", args: [1, "two"] } }, 400, "invalid_job_args"],
      [{ job: { command: "x", env: { MASTER_ADDR: "evil" } } }, 400, "reserved_env_name"],
      [{ job: { command: "x", env: { RANK: "0" } } }, 400, "reserved_env_name"],
      [{ job: { command: "x", env: { KEY: "line\nbreak" } } }, 400, "invalid_env_value"],
      [{ job: { command: "x", privileged: true } }, 400, "job_privileges_refused"],
      [{ job: { command: "x", devices: ["/dev/kvm"] } }, 400, "job_privileges_refused"],
      [{ job: { command: "x", volumes: ["/:/host"] } }, 400, "job_privileges_refused"],
      [{ minTier: 0 }, 400, "invalid_tier"],
      [{ minTier: "fastest" }, 400, "invalid_tier"],
      [{ minTier: [4] }, 400, "validation_failed"],
      [{ count: 1, hours: 720 }, 402, "insufficient_credit"],
    ];
    const before = await json(await call("GET", "/v1/credits", keys.alice));
    for (const [over, status, code] of cases) {
      const res = await json(await call("POST", "/v1/clusters", keys.alice, { ...base, ...over }));
      expect([res.status, res.body.code], code).toEqual([status, code]);
      expect(res.type).toContain("application/problem+json");
    }
    expect((await json(await call("GET", "/v1/credits", keys.alice))).body).toEqual(before.body);
    const hired = await t.server.ctx.db
      .selectFrom("devices")
      .select("id")
      .where("status", "=", "hired")
      .execute();
    expect(hired).toEqual([]);
    // Every refusal is audited with its code.
    const refused = await t.server.ctx.db
      .selectFrom("audit_log")
      .select("outcome")
      .where("actor_id", "=", ids.alice!)
      .where("action", "=", "cluster.create")
      .execute();
    for (const code of [
      "invalid_image",
      "invalid_job_args",
      "job_privileges_refused",
      "invalid_env_value",
      "invalid_tier",
    ]) {
      expect(refused.map((r) => r.outcome)).toContain(`refused:${code}`);
    }
  });

  it("hires only devices whose worker runs jobs in a sandbox, and unsandboxed ones only when asked", async () => {
    const model = "NVIDIA H100 SXM 80GB";
    const profile = "nvidia-h100-sxm";
    for (const sandbox of ["none", "unavailable", "unsafe-subprocess"] as const) {
      await insertDevices(t.server.ctx.db, {
        ownerId: ids.eve!,
        count: 1,
        seenAt: Date.now(),
        model,
        profile,
        sandbox,
      });
    }
    const rent = (over: Record<string, unknown> = {}) =>
      call("POST", "/v1/clusters", keys.bob, {
        gpuModel: profile,
        count: 1,
        hours: 1,
        job: { command: "x" },
        ...over,
      });
    await call("POST", "/v1/admin/credits", t.adminKey, { userId: ids.bob, amount: "100000000" });
    expect((await json(await rent())).body).toMatchObject({ code: "no_capacity", available: 0 });
    const unsafe = await json(await rent({ allowUnsandboxed: true }));
    expect(unsafe).toMatchObject({ status: 201, body: { allowUnsandboxed: true } });
    const device = await t.server.ctx.db
      .selectFrom("cluster_jobs")
      .innerJoin("devices", "devices.id", "cluster_jobs.device_id")
      .select("devices.hardware")
      .where("cluster_jobs.cluster_id", "=", unsafe.body.id as string)
      .executeTakeFirstOrThrow();
    expect(device.hardware).toMatchObject({ sandbox: { kind: "unsafe-subprocess" } });
  });
});
