import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { epochAt, epochStartMs } from "../../apps/server/src/explorer/epoch-window.js";
import { type SeededNetwork, seedNetwork } from "../../apps/server/src/explorer/seed-network.js";
import type { RouteEntry } from "../../apps/server/src/http/route-table.js";
import { closeEpoch } from "../../apps/server/src/rewards/epoch-close.js";
import { defaultProfileWeights } from "../../apps/server/src/rewards/reward-service.js";
import { stakedAndSlashed } from "../../apps/server/src/stakes/stake-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { comparableProblem, findLeaks } from "./leak-scanner.js";
import {
  fuzzedBody,
  fuzzedQuery,
  fuzzedSegment,
  type KnownValues,
  paramValues,
  queryVariants,
  wildcardValues,
} from "./route-inputs.js";

const EPOCH_SECONDS = 3600;
const PRIVACY_STAKES = { perGpu: 1_000_000n, slashBps: 1000, unbondSeconds: 86_400, pendingSeconds: 0 };
const SKIPPED_METHODS = new Set(["HEAD", "OPTIONS"]);

describeEachDialect("every public route keeps owners private", (database) => {
  let t: TestServer;
  let seeded: SeededNetwork;
  let known: KnownValues;
  let routes: RouteEntry[];

  beforeAll(async () => {
    // The crawl reads many distinct ids from one address on purpose: the security monitor may alert, but must
    // not block it, or later answers would be 429s and prove nothing.
    t = await startTestServer({
      database: database(),
      env: { IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS), IGNIS_SECURITY_CONTAINMENT: "off" },
    });
    const db = t.server.ctx.db;
    seeded = await seedNetwork(db, { users: 3, devicesPerUser: 5, epochSeconds: EPOCH_SECONDS });
    const closed = await closeRewardEpochs(t, 2);
    // Slashes of two devices, so GET /v1/slashes answers with evidence; the failed rows' details stay private.
    for (const device of seeded.devices.filter((d) => d.status !== "revoked").slice(0, 2)) {
      const { challengeId } = await stakedAndSlashed(db, PRIVACY_STAKES, {
        ownerId: device.ownerId,
        deviceId: device.id,
        amount: 1_000_000n,
      });
      const { detail } = await db
        .selectFrom("proof_challenges")
        .select("detail")
        .where("id", "=", challengeId)
        .executeTakeFirstOrThrow();
      seeded.secrets.push(detail!);
    }
    known = {
      shownDeviceIds: seeded.devices.filter((d) => d.status !== "revoked").map((d) => d.id),
      hiddenDeviceIds: seeded.devices.filter((d) => d.status === "revoked").map((d) => d.id),
      userIds: seeded.users.map((u) => u.id),
      epochs: closed,
    };
    routes = uniquePublicRoutes(t.server.routeTable);
  });
  afterAll(() => t.stop());

  /** Sends one request and fails the test on any leak or server error, naming the request. */
  const probe = async (method: string, path: string, body?: unknown, accept = "application/json") => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { accept, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
    });
    const text = (await res.text()).replaceAll(t.url, "");
    const headers = [...res.headers]
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n")
      .replaceAll(t.url, "");
    // API bodies get every check; protocol documents and pages (OIDC, OpenAPI, HTML) only the seeded secrets.
    const strict = path.startsWith("/v1/");
    const leaks = [
      ...findLeaks(text, strict ? (res.headers.get("content-type") ?? "") : "", seeded.secrets),
      ...findLeaks(headers, "", seeded.secrets),
    ];
    expect(leaks, `${method} ${path} leaked`).toEqual([]);
    expect(res.status, `${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
    expect(res.status, `${method} ${path} was rate-limited, so its answer proves nothing`).not.toBe(429);
    return { status: res.status, text, contentType: res.headers.get("content-type") ?? "" };
  };

  it("finds the explorer, rewards and web routes among the public routes", () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      "GET /v1/explorer/stats",
      "GET /v1/explorer/map",
      "GET /v1/explorer/devices",
      "GET /v1/explorer/devices/:deviceId",
      "GET /v1/web-config",
      "GET /v1/slashes",
    ]) {
      expect(urls).toContain(expected);
    }
    expect(routes.every((r) => r.meta?.access === "public")).toBe(true);
  });

  it("shows real data to the crawl: public labels appear, private ones never do", async () => {
    const page = await probe("GET", "/v1/explorer/devices?limit=100");
    const items = (JSON.parse(page.text) as { items: { id: string; label: string | null }[] }).items;
    expect(items.length).toBe(known.shownDeviceIds.length);
    const publicLabels = seeded.devices.filter((d) => d.labelPublic).map((d) => d.label);
    expect(
      items
        .map((i) => i.label)
        .filter(Boolean)
        .sort(),
    ).toEqual(publicLabels.sort());
  });

  it("shows the seeded slashes with evidence to anyone, and no owner", async () => {
    const page = await probe("GET", "/v1/slashes");
    const items = (JSON.parse(page.text) as { items: { evidence: { transcriptHash: string } }[] }).items;
    expect(items).toHaveLength(2);
    expect(items.every((i) => /^[0-9a-f]{64}$/.test(i.evidence.transcriptHash))).toBe(true);
  });

  it("leaks no owner identity from any public route, with real, hidden, made-up and hostile ids", async () => {
    let requests = 0;
    for (const route of routes) {
      const paths = concretePaths(route.url, known);
      const queries = route.method === "GET" ? queryVariants(known) : [""];
      for (const [i, path] of paths.entries()) {
        for (const q of i === 0 ? queries : [""]) {
          const body = route.method === "GET" || route.method === "DELETE" ? undefined : {};
          await probe(route.method, `${path}${q}`, body);
          requests++;
        }
      }
      if (route.method === "GET") await probe("GET", paths[0]!, undefined, "text/html");
    }
    expect(requests).toBeGreaterThan(routes.length * 3);
  });

  it("leaks nothing under fuzzed ids, queries and bodies either", async () => {
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fuzzedSegment, { minLength: 3, maxLength: 3 }),
          fuzzedQuery,
          fuzzedBody,
          async (segments, q, body) => {
            let n = 0;
            const path = route.url
              .replace(/:[A-Za-z]+/g, () => segments[n++ % segments.length]!)
              .replace(/\*$/, segments[0]!);
            await probe(
              route.method,
              `${path}${route.method === "GET" ? q : ""}`,
              route.method === "GET" ? undefined : body,
            );
          },
        ),
        { numRuns: 12 },
      );
    }
  });

  it("answers a hidden device exactly like one that never existed, on every public route with a device id", async () => {
    const withDevice = routes.filter((r) => r.method === "GET" && /:deviceId\b/.test(r.url));
    expect(withDevice.length).toBeGreaterThan(0);
    for (const route of withDevice) {
      const fill = (deviceId: string) =>
        route.url.replace(/:deviceId\b/, deviceId).replace(/:epoch\b/, String(known.epochs[0] ?? 0));
      const missingId = `dev_${"z".repeat(26)}`;
      const missing = await probe("GET", fill(missingId));
      // An answer may echo the id it was asked about; apart from that it must be the same answer.
      const shape = (text: string, id: string) => comparableProblem(JSON.parse(text.replaceAll(id, "<id>")));
      for (const hidden of known.hiddenDeviceIds) {
        const answer = await probe("GET", fill(hidden));
        expect(answer.status, route.url).toBe(missing.status);
        expect(answer.contentType, route.url).toBe(missing.contentType);
        expect(shape(answer.text, hidden), route.url).toEqual(shape(missing.text, missingId));
      }
    }
  });
});

/** Public routes once each (HEAD and OPTIONS mirror GET and say nothing of their own). */
function uniquePublicRoutes(table: readonly RouteEntry[]): RouteEntry[] {
  const seen = new Set<string>();
  return table.filter((r) => {
    const key = `${r.method} ${r.url}`;
    if (r.meta?.access !== "public" || SKIPPED_METHODS.has(r.method) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every concrete path to try for a route pattern: each parameter over its candidates, the others fixed. */
function concretePaths(pattern: string, known: KnownValues): string[] {
  const wildcard = pattern.endsWith("*")
    ? wildcardValues(pattern).map((w) => pattern.replace(/\*$/, w))
    : [pattern];
  const out: string[] = [];
  for (const base of wildcard) {
    const params = [...base.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
    if (params.length === 0) out.push(base);
    for (const varying of params) {
      for (const value of paramValues(varying, known)) {
        let path = base.replace(`:${varying}`, encodeURIComponent(value));
        for (const other of params)
          if (other !== varying)
            path = path.replace(`:${other}`, encodeURIComponent(paramValues(other, known)[0]!));
        out.push(path);
      }
    }
  }
  return [...new Set(out)];
}

/** Opens a reward season over the seeded uptime and closes recent epochs, so reward rows (with owners) exist. */
async function closeRewardEpochs(t: TestServer, count: number): Promise<number[]> {
  const current = epochAt(Date.now(), EPOCH_SECONDS);
  const first = current - count - 2;
  const res = await fetch(`${t.url}/v1/admin/rewards/seasons`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "privacy crawl",
      startsAt: new Date(epochStartMs(first, EPOCH_SECONDS)).toISOString(),
      // The server opens its default season at the current epoch on first start; this one ends where it begins.
      endsAt: new Date(epochStartMs(current, EPOCH_SECONDS)).toISOString(),
      poolPerEpoch: "1000000000",
      weights: defaultProfileWeights(),
      minUpMinutes: 1,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const epochs: number[] = [];
  for (let e = first; e < first + count; e++) {
    const closed = await closeEpoch(t.server.ctx.db, { epoch: e, epochSeconds: EPOCH_SECONDS });
    expect(closed?.root, `epoch ${e} closed with a root`).toMatch(/^0x[0-9a-f]{64}$/);
    epochs.push(e);
  }
  return epochs;
}
