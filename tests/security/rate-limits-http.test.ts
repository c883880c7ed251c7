import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { createRateLimits, DEFAULT_BUDGETS, IP_BUDGETS } from "../../apps/server/src/security/rate-limits.js";
import {
  createUserWithKey,
  type FixtureUser,
  insertDevices,
} from "../../apps/server/src/security/security-fixtures.js";
import { postgresRateLimitStore } from "../../apps/server/src/security/shared-rate-limits.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const REDIS_URL = process.env.IGNIS_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await import("ioredis").then(async ({ Redis }) => {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return true;
  } catch {
    console.warn(`[ignis tests] skipping the Redis replica test: ${REDIS_URL} unreachable`);
    return false;
  } finally {
    client.disconnect();
  }
});

const randomIp = () => `10.${randomBytes(3).join(".")}`;
const ENV = { IGNIS_RATE_LIMITS: "on", IGNIS_TRUST_PROXY: "127.0.0.1" };

describeEachDialect("rate limits over HTTP, shared between two replicas", (database) => {
  const replicas: TestServer[] = [];
  let supplier: FixtureUser;
  let deviceId: string;

  afterAll(async () => {
    for (const r of replicas.splice(0)) await r.stop();
  });

  async function relabelUntilRefused(ip: string): Promise<{ accepted: number; refused: Response }> {
    let accepted = 0;
    for (let i = 0; ; i += 1) {
      const replica = replicas[i % replicas.length]!;
      const res = await fetch(`${replica.url}/v1/devices/${deviceId}`, {
        method: "PATCH",
        headers: {
          authorization: `Bearer ${supplier.key}`,
          "content-type": "application/json",
          "x-forwarded-for": ip,
        },
        body: JSON.stringify({ label: `l${i}` }),
      });
      if (res.status !== 200) return { accepted, refused: res };
      await res.arrayBuffer();
      accepted += 1;
    }
  }

  /** Two replicas over one database; `limits` gives each its own limiter objects (as two processes have). */
  async function setUp(env: Record<string, string>, limits?: () => ReturnType<typeof createRateLimits>) {
    for (const r of replicas.splice(0)) await r.stop();
    for (let i = 0; i < 2; i += 1)
      replicas.push(
        await startTestServer({
          database: database(),
          env: { ...ENV, ...env },
          overrides: limits ? { rateLimits: limits() } : {},
        }),
      );
    supplier = await createUserWithKey(database().db, ["supplier"]);
    [deviceId] = (await insertDevices(database().db, supplier.userId, 1)) as [string];
  }

  it("spends one write budget per credential across both replicas through PostgreSQL's rate_limits table", async () => {
    await setUp({}, () =>
      createRateLimits({ makeLimiter: postgresRateLimitStore(database().db).makeLimiter }),
    );
    const { accepted, refused } = await relabelUntilRefused(randomIp());
    expect(accepted).toBe(DEFAULT_BUDGETS.write.points);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
  }, 60_000);

  it.skipIf(!redisUp)(
    "spends one write budget across both replicas through Redis (IGNIS_REDIS_URL)",
    async () => {
      await setUp({ IGNIS_REDIS_URL: REDIS_URL });
      const { accepted, refused } = await relabelUntilRefused(randomIp());
      expect(accepted).toBe(DEFAULT_BUDGETS.write.points);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    },
    60_000,
  );

  it.skipIf(!redisUp)(
    "refuses further guesses from an address that spent its failed-authentication budget, but not a valid key",
    async () => {
      await setUp({ IGNIS_REDIS_URL: REDIS_URL });
      const guesser = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i < IP_BUDGETS.auth.points + 2; i += 1) {
        const res = await fetch(`${replicas[i % 2]!.url}/v1/me`, {
          headers: {
            authorization: `Bearer ign_${randomBytes(32).toString("base64url")}`,
            "x-forwarded-for": guesser,
          },
        });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, IP_BUDGETS.auth.points).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(-2)).toEqual([429, 429]);
      // A valid key is limited per credential, never by its address: an operator behind the guesser's NAT works.
      const fromGuesser = await fetch(`${replicas[0]!.url}/v1/me`, {
        headers: { authorization: `Bearer ${supplier.key}`, "x-forwarded-for": guesser },
      });
      expect(fromGuesser.status).toBe(200);
      const fromElsewhere = await fetch(`${replicas[1]!.url}/v1/me`, {
        headers: { authorization: `Bearer ${supplier.key}`, "x-forwarded-for": randomIp() },
      });
      expect(fromElsewhere.status).toBe(200);
    },
    60_000,
  );
});
