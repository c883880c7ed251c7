import { isIgnisError } from "@ignis/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createRateLimits, type RateLimits } from "./rate-limits.js";
import { postgresRateLimitStore, redisRateLimitStore } from "./shared-rate-limits.js";

const REDIS_URL = process.env.IGNIS_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function refusal(promise: Promise<unknown>): Promise<{ code: string; retryAfter: unknown } | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    if (!isIgnisError(error)) throw error;
    return { code: error.code, retryAfter: error.details?.retryAfterSeconds };
  }
}

async function spend(limits: RateLimits, key: string, n: number): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < n; i += 1) if ((await refusal(limits.consume("write", key))) === null) accepted += 1;
  return accepted;
}

describe("rate limits in memory", () => {
  it("refuses a credential past its write budget with rate_limited and the seconds to wait", async () => {
    const limits = createRateLimits({ budgets: { write: { points: 3, durationSeconds: 60 } } });
    expect(await spend(limits, "cred:key_a", 3)).toBe(3);
    expect(await refusal(limits.consume("write", "cred:key_a"))).toEqual({
      code: "rate_limited",
      retryAfter: expect.any(Number),
    });
    expect(await refusal(limits.consume("write", "cred:key_b"))).toBeNull();
  });

  it("gives IP keys their own, separate budgets", async () => {
    const limits = createRateLimits({
      budgets: { write: { points: 1, durationSeconds: 60 } },
      ipBudgets: { write: { points: 2, durationSeconds: 60 } },
    });
    expect(await spend(limits, "ip:10.0.0.1", 5)).toBe(2);
    expect(await spend(limits, "cred:key_a", 5)).toBe(1);
  });

  it("checks a budget without spending it", async () => {
    const limits = createRateLimits({ budgets: { auth: { points: 2, durationSeconds: 60 } } });
    await limits.check("auth", "cred:x");
    await limits.check("auth", "cred:x");
    await limits.consume("auth", "cred:x");
    await limits.consume("auth", "cred:x");
    expect((await refusal(limits.check("auth", "cred:x")))?.code).toBe("rate_limited");
  });

  it("blocks and unblocks a key even when budgets are switched off", async () => {
    const limits = createRateLimits({ enabled: false });
    expect(await limits.blockedFor("ip:192.0.2.7")).toBe(0);
    await limits.block("ip:192.0.2.7", 600);
    expect(await limits.blockedFor("ip:192.0.2.7")).toBeGreaterThan(590);
    await limits.unblock("ip:192.0.2.7");
    expect(await limits.blockedFor("ip:192.0.2.7")).toBe(0);
    expect(await spend(limits, "cred:any", 500)).toBe(500);
  });
});

describe("rate limits shared through Redis", async () => {
  const store = await redisRateLimitStore(REDIS_URL, `ignis-test:${process.pid}:${Date.now()}`).catch(
    (error: unknown) => {
      console.warn(`[ignis tests] skipping Redis rate-limit suite: ${REDIS_URL} unreachable (${error})`);
      return undefined;
    },
  );
  afterAll(() => store?.close());

  it.skipIf(!store)("lets two replicas share one budget", async () => {
    const budgets = { write: { points: 10, durationSeconds: 60 } };
    const a = createRateLimits({ budgets, makeLimiter: store!.makeLimiter });
    const b = createRateLimits({ budgets, makeLimiter: store!.makeLimiter });
    expect((await spend(a, "cred:stolen", 6)) + (await spend(b, "cred:stolen", 6))).toBe(10);
    expect((await refusal(b.consume("write", "cred:stolen")))?.code).toBe("rate_limited");
  });

  it.skipIf(!store)("shares a block between replicas", async () => {
    const a = createRateLimits({ makeLimiter: store!.makeLimiter });
    const b = createRateLimits({ makeLimiter: store!.makeLimiter });
    await a.block("ip:198.51.100.9", 60);
    expect(await b.blockedFor("ip:198.51.100.9")).toBeGreaterThan(50);
    await b.unblock("ip:198.51.100.9");
    expect(await a.blockedFor("ip:198.51.100.9")).toBe(0);
  });
});

describeEachDialect("rate limits shared through the database", (database, dialect) => {
  it("lets two replicas with their own connections share one budget", async () => {
    const url = (database() as { url?: string }).url;
    // PGlite has one connection in one process; PostgreSQL gets a second, independent pool like a replica.
    const second = dialect === "postgres" && url ? await openDatabase({ databaseUrl: url }) : undefined;
    try {
      const budgets = { write: { points: 10, durationSeconds: 60 } };
      const a = createRateLimits({ budgets, makeLimiter: postgresRateLimitStore(database().db).makeLimiter });
      const b = createRateLimits({
        budgets,
        makeLimiter: postgresRateLimitStore((second ?? database()).db).makeLimiter,
      });
      expect((await spend(a, "cred:stolen", 6)) + (await spend(b, "cred:stolen", 6))).toBe(10);
      const refused = await refusal(a.consume("write", "cred:stolen"));
      expect(refused?.code).toBe("rate_limited");
      expect(refused?.retryAfter).toBeGreaterThan(0);
      await a.block("ip:203.0.113.5", 60);
      expect(await b.blockedFor("ip:203.0.113.5")).toBeGreaterThan(50);
    } finally {
      await second?.close();
    }
  });
});
