import { afterAll, beforeAll, expect, it } from "vitest";
import { insertDevice } from "../../rewards/reward-fixtures.js";
import { decidedChallenge } from "../../stakes/stake-fixtures.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const PER_GPU = 1_000_000;
const UNBOND_SECONDS = 7200;

describeEachDialect("stake and slash routes", (database) => {
  let t: TestServer;
  const clock = { ms: Date.UTC(2026, 11, 7, 9, 0, 0) };
  const users: Record<string, { id: string; key: string }> = {};
  let device: string;

  const call = async <T>(path: string, key?: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${t.url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const type = (res.headers.get("content-type") ?? "").split(";")[0];
    return { status: res.status, type, body: (await res.json()) as T & { code?: string } };
  };
  const post = <T>(path: string, key: string, body: unknown = {}) =>
    call<T>(path, key, { method: "POST", body });

  async function user(name: string, roles: string[]) {
    const { body: made } = await post<{ id: string }>("/v1/admin/users", t.adminKey, {
      email: `${name}@example.com`,
      roles,
    });
    const { body } = await post<{ key: string }>(`/v1/admin/users/${made.id}/api-keys`, t.adminKey, {
      name: "test",
    });
    users[name] = { id: made.id, key: body.key };
  }

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_STAKE_PER_GPU: String(PER_GPU), IGNIS_UNBOND_SECONDS: String(UNBOND_SECONDS) },
      overrides: { stakeClock: () => clock.ms },
    });
    await user("alice", ["supplier"]);
    await user("mallory", ["supplier"]);
    device = await insertDevice(t.server.ctx.db, users.alice!.id, { profile: "sim-a100" });
  });
  afterAll(() => t.stop());

  it("shows a verified device without stake as neither hireable nor earning, and says why", async () => {
    const { body } = await call<{ eligibility: unknown }>(`/v1/devices/${device}`, users.alice!.key);
    expect(body.eligibility).toEqual({ hireable: false, earning: false, reasons: ["stake_missing"] });
  });

  it("refuses bad stakes with stable problem codes and changes nothing", async () => {
    const alice = users.alice!.key;
    for (const [body, status, code] of [
      [{ deviceId: device, amount: String(PER_GPU) }, 402, "insufficient_earnings"],
      [{ deviceId: device, amount: "-5" }, 400, "invalid_amount"],
      [{ deviceId: device, amount: "1.5" }, 400, "invalid_amount"],
      [{ deviceId: device, amount: "0" }, 400, "invalid_amount"],
      [{ deviceId: device, amount: "5", extra: true }, 400, undefined],
      [{ deviceId: "dev_nope", amount: "5" }, 404, "not_found"],
    ] as const) {
      const res = await post("/v1/stakes", alice, body);
      expect([res.status, res.type], JSON.stringify(body)).toEqual([status, "application/problem+json"]);
      if (code) expect(res.body.code).toBe(code);
    }
    // Another supplier's device is not found, not forbidden: ids cannot be probed.
    expect((await post("/v1/stakes", users.mallory!.key, { deviceId: device, amount: "5" })).status).toBe(
      404,
    );
    expect((await call<{ items: unknown[] }>("/v1/stakes", alice)).body.items).toEqual([]);
  });

  it("stakes from the earnings an admin credited, which makes the device hireable and earning", async () => {
    const credit = await post<{ balance: string; account: string }>("/v1/admin/credits", t.adminKey, {
      userId: users.alice!.id,
      amount: String(3 * PER_GPU),
      account: "supplier_earnings",
    });
    expect(credit.body).toMatchObject({ balance: String(3 * PER_GPU), account: "supplier_earnings" });
    const made = await post<{ status: string; bonded: string }>("/v1/stakes", users.alice!.key, {
      deviceId: device,
      amount: String(PER_GPU),
    });
    expect([made.status, made.body.status, made.body.bonded]).toEqual([201, "bonded", String(PER_GPU)]);
    const { body } = await call<{ eligibility: unknown }>(`/v1/devices/${device}`, users.alice!.key);
    expect(body.eligibility).toEqual({ hireable: true, earning: true, reasons: [] });
    const list = await call<{ earningsBalance: string; perGpu: string }>("/v1/stakes", users.alice!.key);
    expect(list.body).toMatchObject({ earningsBalance: String(2 * PER_GPU), perGpu: String(PER_GPU) });
  });

  it("slashes a fraud-class failure, lets only the owner appeal once, and refunds after a passing re-proof", async () => {
    const db = t.server.ctx.db;
    const failed = await decidedChallenge(db, device, "fail", "wrong_row", new Date(clock.ms));
    const { slash } = await t.server.ctx.stakes.afterVerdict(failed);
    expect(slash?.amount).toBe(BigInt(PER_GPU / 10));
    const listed = await call<{ items: { id: string; appeal: unknown }[] }>(`/v1/slashes?deviceId=${device}`);
    expect(listed.body.items.map((s) => [s.id, s.appeal])).toEqual([[slash!.id, null]]);
    const after = await call<{ eligibility: { reasons: string[] } }>(
      `/v1/devices/${device}`,
      users.alice!.key,
    );
    expect(after.body.eligibility.reasons).toEqual(["stake_missing"]);

    const appeal = `/v1/slashes/${slash!.id}/appeal`;
    expect((await post(appeal, users.mallory!.key, { reason: "mine" })).status).toBe(404);
    expect((await post(appeal, users.alice!.key, { reason: "" })).status).toBe(400);
    clock.ms += 1000;
    const made = await post<{ appeal: { status: string } }>(appeal, users.alice!.key, {
      reason: "driver reset",
    });
    expect([made.status, made.body.appeal.status]).toEqual([202, "pending"]);
    const again = await post(appeal, users.alice!.key, { reason: "again" });
    expect([again.status, again.body.code]).toEqual([409, "appeal_exists"]);

    clock.ms += 1000;
    const reproof = await decidedChallenge(db, device, "pass", null, new Date(clock.ms));
    const { appeals } = await t.server.ctx.stakes.afterVerdict(reproof);
    expect(appeals).toMatchObject([{ slashId: slash!.id, status: "refunded" }]);
    const stakes = await call<{ items: { bonded: string }[] }>("/v1/stakes", users.alice!.key);
    expect(stakes.body.items.map((s) => s.bonded)).toEqual([String(PER_GPU)]);
    const refunded = await call<{ items: { appeal: { status: string } }[] }>(
      `/v1/slashes?deviceId=${device}`,
    );
    expect(refunded.body.items[0]?.appeal.status).toBe("refunded");
  });

  it("refuses a stolen key scoped to reading rewards: no stake, unbond or appeal, and nothing changes", async () => {
    const minted = await post<{ key: string }>("/v1/api-keys", users.alice!.key, {
      name: "dashboard",
      scopes: ["rewards:read"],
    });
    expect(minted.status).toBe(201);
    const thief = minted.body.key;
    const before = await call<{ items: { id: string; bonded: string; status: string }[] }>(
      "/v1/stakes",
      users.alice!.key,
    );
    const stakeId = before.body.items[0]!.id;
    const slashes = await call<{ items: { id: string }[] }>(`/v1/slashes?deviceId=${device}`);
    for (const [path, body] of [
      ["/v1/stakes", { deviceId: device, amount: String(PER_GPU) }],
      [`/v1/stakes/${stakeId}/unbond`, {}],
      [`/v1/slashes/${slashes.body.items[0]!.id}/appeal`, { reason: "mine now" }],
    ] as const) {
      const res = await post(path, thief, body);
      expect([res.status, res.body.code], path).toEqual([403, "insufficient_scope"]);
    }
    expect((await call("/v1/stakes", thief)).status).toBe(403);
    expect((await call("/v1/stakes", users.alice!.key)).body).toEqual(before.body);
  });

  it("unbonds only on the owner's word, and pays back only once IGNIS_UNBOND_SECONDS have passed", async () => {
    const { body } = await call<{ items: { id: string }[] }>("/v1/stakes", users.alice!.key);
    const unbond = `/v1/stakes/${body.items[0]!.id}/unbond`;
    expect((await post(unbond, users.mallory!.key)).status).toBe(404);
    const started = await post<{ status: string; releaseAt: string }>(unbond, users.alice!.key);
    expect(started.body).toMatchObject({
      status: "unbonding",
      releaseAt: new Date(clock.ms + UNBOND_SECONDS * 1000).toISOString(),
    });
    expect((await post(unbond, users.alice!.key)).body.code).toBe("stake_not_bonded");
    const eligibility = await call<{ eligibility: { reasons: string[] } }>(
      `/v1/devices/${device}`,
      users.alice!.key,
    );
    expect(eligibility.body.eligibility.reasons).toEqual(["stake_missing"]);
    clock.ms += UNBOND_SECONDS * 1000 - 1;
    const waiting = await call<{ items: { status: string }[]; earningsBalance: string }>(
      "/v1/stakes",
      users.alice!.key,
    );
    expect([waiting.body.items[0]?.status, waiting.body.earningsBalance]).toEqual([
      "unbonding",
      String(2 * PER_GPU),
    ]);
    clock.ms += 1;
    const back = await call<{ items: { status: string }[]; earningsBalance: string }>(
      "/v1/stakes",
      users.alice!.key,
    );
    expect([back.body.items[0]?.status, back.body.earningsBalance]).toEqual([
      "released",
      String(3 * PER_GPU),
    ]);
  });

  it("refuses a cursor it did not give with a problem, not an error", async () => {
    const res = await call("/v1/slashes?cursor=not-a-cursor");
    expect([res.status, res.body.code]).toEqual([400, "bad_request"]);
  });
});
