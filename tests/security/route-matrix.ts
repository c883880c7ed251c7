import { generateKeyPairSync, sign } from "node:crypto";
import { hardwareProfiles } from "@ignis/protocol";
import { markDeviceConflict } from "../../apps/server/src/devices/session-conflict.js";
import { registerMachineClient } from "../../apps/server/src/identity/oidc/machine-clients.js";
import { insertDevices } from "../../apps/server/src/security/security-fixtures.js";
import { earn, stakedAndSlashed } from "../../apps/server/src/stakes/stake-fixtures.js";
import { bondStake } from "../../apps/server/src/stakes/stakes.js";
import { createRollout } from "../../apps/server/src/upgrades/rollouts.js";
import { insertRelease } from "../../apps/server/src/upgrades/worker-releases.js";
import {
  adminOnly,
  customers,
  everyone,
  type MatrixRow,
  ownedByCustomer,
  ownedByOwner,
  signedIn,
  suppliers,
  unique,
} from "./support/matrix-presets.js";
import { freshKey, type World } from "./support/world.js";

const hour = 3_600_000;
/** The staking rule the matrix's server runs with (support/world.ts sets the same per GPU). */
export const MATRIX_STAKES = { perGpu: 1000n, slashBps: 1000, unbondSeconds: 7 * 86_400, pendingSeconds: 0 };
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const NO_SUCH_SEASON = "ssn_00000000000000000000000000";

/** This module's releases are 9.RUN.N: a random run, then a counter, so no two of its versions can meet. */
const releaseRun = Number.parseInt(unique().slice(0, 6), 16) % 1_000_000;
let releaseCount = 0;

/**
 * A well-formed release upload with a version unique by construction (its signature is not checked by the
 * server). A version drawn at random from a million, as before, meets an earlier one with probability about
 * k²/2,000,000 after k releases, and the SQL-injection test stores one per rollout request it sends.
 */
function matrixRelease() {
  const n = releaseCount++;
  return {
    version: `9.${releaseRun}.${n}`,
    packageBase64: Buffer.from(`package ${releaseRun}.${n}`).toString("base64"),
    signature: "A".repeat(86),
  };
}

/** A release stored directly, for the routes that read one. */
async function storedRelease(db: World["db"]): Promise<string> {
  const release = matrixRelease();
  await insertRelease(db, {
    version: release.version,
    bytes: Buffer.from(release.packageBase64, "base64"),
    signature: release.signature,
    createdBy: "matrix",
  });
  return release.version;
}

/** Finishes every active rollout, so a new one may start. */
async function finishRollouts(db: World["db"]): Promise<void> {
  await db
    .updateTable("worker_rollouts")
    .set({ status: "done" })
    .where("status", "in", ["running", "paused"])
    .execute();
}

/** A running rollout of a fresh release. */
async function freshRollout(db: World["db"], adminId: string): Promise<string> {
  await finishRollouts(db);
  const version = await storedRelease(db);
  return (await createRollout(db, { version, percent: 10, createdBy: adminId, at: new Date() })).id;
}

/** A new machine client of a user, for routes that change or delete the client they act on. */
async function freshMachineClient(db: Parameters<typeof registerMachineClient>[0], userId: string) {
  return (await registerMachineClient(db, { name: `m-${unique()}`, userId })).clientId;
}

/** A well-formed enrollment with a real key and signature but a code nobody issued. */
function enrollmentWithUnknownCode() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "jwk" }).x!;
  return {
    code: "NOT-A-REAL-CODE",
    publicKey: raw,
    signature: sign(null, Buffer.from("not the enrollment text"), privateKey).toString("base64url"),
    hardware: {
      profile: "sim-a100",
      gpu: { vendor: "nvidia", model: "NVIDIA A100 (simulated)", count: 1, vramGb: 80, driver: null },
      cpu: { model: "x", cores: 8 },
      ramGb: 64,
      diskGb: 100,
      os: { platform: "linux", release: "6", arch: "x64", appleSilicon: false },
      region: "europe",
    },
  };
}

/**
 * The role × route matrix: one row per route the server registers. A route without a row fails the matrix
 * test, so adding a route means adding a row here: its request and the status every point of view must get.
 * Device points of view default to 401 (see deviceDefault); write them out where a row says otherwise.
 */
export const ROUTE_MATRIX: MatrixRow[] = [
  // --- system
  {
    route: "GET /healthz",
    expect: { ...everyone(200), deviceA: 200, deviceB: 200 },
    why: "never authenticated, limited or blocked: an orchestrator must always see a live replica as live",
  },
  {
    route: "POST /v1/link-test",
    expect: everyone(200),
    why: "a byte sink for ignis doctor's upload speed: answers a count, keeps nothing, limited per address",
  },
  {
    route: "GET /metrics",
    expect: adminOnly(200),
    why: "Prometheus text: admins here, anyone on the metrics port",
  },
  { route: "GET /openapi.json", expect: everyone(200) },
  { route: "GET /v1/auth/config", expect: everyone(200) },
  { route: "GET /v1/web-config", expect: everyone(200) },
  {
    route: "GET /*",
    request: () => ({ path: "/some/page" }),
    expect: everyone(404),
    why: "the web bundle is not built in tests; with it, every page is public static content",
  },

  // --- identity
  { route: "GET /v1/me", expect: signedIn(200) },
  {
    route: "POST /v1/api-keys",
    request: () => ({ path: "/v1/api-keys", body: { name: `k-${unique()}` } }),
    expect: signedIn(201),
  },
  { route: "GET /v1/api-keys", expect: signedIn(200) },
  {
    route: "DELETE /v1/api-keys/:keyId",
    request: async (w) => ({ path: `/v1/api-keys/${await freshKey(w.db, w.owner.userId)}` }),
    expect: ownedByOwner(204, 404),
    why: "a user revokes only their own keys; anyone else's key id is simply not found",
  },
  {
    route: "POST /v1/admin/users",
    request: () => ({
      path: "/v1/admin/users",
      body: { email: `m-${unique()}@example.test`, roles: ["customer"] },
    }),
    expect: adminOnly(201),
  },
  { route: "GET /v1/admin/users", expect: adminOnly(200) },
  {
    route: "PATCH /v1/admin/users/:userId",
    request: (w) => ({ path: `/v1/admin/users/${w.owner.userId}`, body: { writesFrozen: false } }),
    expect: adminOnly(200),
  },
  {
    route: "POST /v1/admin/users/:userId/api-keys",
    request: (w) => ({
      path: `/v1/admin/users/${w.customer.userId}/api-keys`,
      body: { name: `m-${unique()}` },
    }),
    expect: adminOnly(201),
  },
  {
    route: "POST /v1/admin/users/:userId/oidc-clients",
    request: (w) => ({
      path: `/v1/admin/users/${w.customer.userId}/oidc-clients`,
      body: { name: `machine-${unique()}` },
    }),
    expect: adminOnly(201),
    why: "a machine client acts as the user it is made for: only an admin makes one",
  },
  {
    route: "GET /v1/admin/users/:userId/oidc-clients",
    request: (w) => ({ path: `/v1/admin/users/${w.customer.userId}/oidc-clients` }),
    expect: adminOnly(200),
  },
  {
    route: "POST /v1/admin/users/:userId/oidc-clients/:clientId/rotate-secret",
    request: async (w) => ({
      path: `/v1/admin/users/${w.customer.userId}/oidc-clients/${await freshMachineClient(w.db, w.customer.userId)}/rotate-secret`,
    }),
    expect: adminOnly(200),
    why: "only an admin manages machine clients; a client id under another user is 404 (machine-clients.test.ts)",
  },
  {
    route: "DELETE /v1/admin/users/:userId/oidc-clients/:clientId",
    request: async (w) => ({
      path: `/v1/admin/users/${w.customer.userId}/oidc-clients/${await freshMachineClient(w.db, w.customer.userId)}`,
    }),
    expect: adminOnly(204),
  },

  // --- devices
  {
    route: "POST /v1/enrollment-codes",
    request: () => ({ path: "/v1/enrollment-codes", body: {} }),
    expect: suppliers(201),
  },
  { route: "GET /v1/devices", expect: suppliers(200, 200) },
  {
    route: "GET /v1/devices/:deviceId",
    request: (w) => ({ path: `/v1/devices/${w.deviceA}` }),
    expect: ownedByOwner(200, 200),
  },
  {
    route: "PATCH /v1/devices/:deviceId",
    request: (w) => ({ path: `/v1/devices/${w.deviceA}`, body: { label: `rack-${unique()}` } }),
    expect: ownedByOwner(200, 404),
    why: "only the owner writes labels; an admin reads but never relabels (the io.net metadata rewrite)",
  },
  {
    route: "PUT /v1/devices/:deviceId/label-visibility",
    request: (w) => ({ path: `/v1/devices/${w.deviceA}/label-visibility`, body: { public: true } }),
    expect: ownedByOwner(200, 404),
    why: "only the owner decides whether the explorer shows a label; an admin cannot publish it",
  },
  {
    route: "POST /v1/devices/:deviceId/revoke",
    request: async (w) => ({
      path: `/v1/devices/${(await insertDevices(w.db, w.owner.userId, 1))[0]}/revoke`,
    }),
    expect: ownedByOwner(200, 200),
  },
  {
    route: "POST /v1/devices/:deviceId/rotate-key",
    request: async (w) => ({
      path: `/v1/devices/${(await insertDevices(w.db, w.owner.userId, 1))[0]}/rotate-key`,
    }),
    expect: ownedByOwner(202, 202),
    why: "the owner (or an admin migrating keys) asks a device to rotate; no one else learns it exists",
  },
  {
    route: "POST /v1/devices/:deviceId/resolve-conflict",
    request: async (w) => {
      const [id] = await insertDevices(w.db, w.owner.userId, 1);
      await markDeviceConflict(w.db, id!, ["192.0.2.1", "192.0.2.2"]);
      return { path: `/v1/devices/${id}/resolve-conflict`, body: { action: "keep" } };
    },
    expect: ownedByOwner(200, 404),
    why: "only the owner knows which machine is theirs; an admin cannot settle it for them",
  },
  {
    route: "GET /v1/devices/:deviceId/price",
    request: (w) => ({ path: `/v1/devices/${w.deviceA}/price` }),
    expect: ownedByOwner(200, 200),
  },
  {
    route: "PUT /v1/devices/:deviceId/price",
    request: (w) => ({ path: `/v1/devices/${w.deviceA}/price`, body: { minPricePerHour: "2000000" } }),
    expect: ownedByOwner(200, 404),
  },
  {
    route: "POST /v1/enrollments",
    request: () => ({ path: "/v1/enrollments", body: enrollmentWithUnknownCode() }),
    expect: everyone(401),
    why: "public: a device proves itself with a single-use code and a signature, never a bearer",
  },
  {
    route: "POST /v1/admin/key-migrations",
    request: () => ({ path: "/v1/admin/key-migrations", body: { rotateBy: iso(24 * hour), note: "matrix" } }),
    expect: adminOnly(201),
  },
  { route: "GET /v1/admin/key-migrations", expect: adminOnly(200) },
  {
    route: "GET /v1/worker/session",
    expect: { ...everyone(426), deviceA: 426, deviceB: 426 },
    why: "the worker socket authenticates in-band (signed nonce); a plain GET without an upgrade is told to upgrade",
  },

  // --- worker releases and staged rollouts
  {
    route: "POST /v1/admin/worker-releases",
    request: () => ({ path: "/v1/admin/worker-releases", body: matrixRelease() }),
    expect: adminOnly(201),
  },
  { route: "GET /v1/admin/worker-releases", expect: adminOnly(200) },
  {
    route: "GET /v1/worker/releases/:version/package",
    request: async (w) => ({ path: `/v1/worker/releases/${await storedRelease(w.db)}/package` }),
    expect: everyone(200),
    why: "public: the package is signed by the release key, not secret; workers fetch it with no credential",
  },
  {
    route: "POST /v1/admin/worker-rollouts",
    request: async (w) => {
      await finishRollouts(w.db);
      return { path: "/v1/admin/worker-rollouts", body: { version: await storedRelease(w.db), percent: 10 } };
    },
    expect: adminOnly(201),
  },
  { route: "GET /v1/admin/worker-rollouts", expect: adminOnly(200) },
  {
    route: "GET /v1/admin/worker-rollouts/:rolloutId",
    request: async (w) => ({ path: `/v1/admin/worker-rollouts/${await freshRollout(w.db, w.admin.userId)}` }),
    expect: adminOnly(200),
  },
  {
    route: "PATCH /v1/admin/worker-rollouts/:rolloutId",
    request: async (w) => ({
      path: `/v1/admin/worker-rollouts/${await freshRollout(w.db, w.admin.userId)}`,
      body: { status: "paused" },
    }),
    expect: adminOnly(200),
  },

  // --- security
  { route: "GET /v1/admin/alerts", expect: adminOnly(200) },
  {
    route: "POST /v1/admin/alerts/:alertId/acknowledge",
    request: (w) => ({ path: `/v1/admin/alerts/${w.alertId}/acknowledge`, body: {} }),
    expect: adminOnly(200),
  },
  {
    route: "POST /v1/admin/alerts/:alertId/release",
    request: (w) => ({ path: `/v1/admin/alerts/${w.alertId}/release`, body: { note: "matrix" } }),
    expect: adminOnly(200),
  },
  { route: "GET /v1/admin/audit", expect: adminOnly(200) },
  { route: "GET /v1/admin/audit/verify", expect: adminOnly(200) },

  // --- proof of GPU (admin)
  {
    route: "GET /v1/admin/devices/:deviceId/challenges",
    request: (w) => ({ path: `/v1/admin/devices/${w.deviceA}/challenges` }),
    expect: adminOnly(200),
  },
  {
    route: "POST /v1/admin/devices/:deviceId/challenges",
    request: (w) => ({ path: `/v1/admin/devices/${w.deviceA}/challenges` }),
    expect: adminOnly(409),
    why: "the matrix's devices have no live session: admins pass policy and meet device_offline",
  },
  {
    route: "POST /v1/admin/devices/:deviceId/proof-release",
    request: (w) => ({ path: `/v1/admin/devices/${w.deviceA}/proof-release`, body: { note: "matrix" } }),
    expect: adminOnly(200),
    why: "a device that has not failed is left as it is (cleared: false)",
  },

  // --- explorer and market (public)
  { route: "GET /v1/explorer/stats", expect: everyone(200) },
  { route: "GET /v1/explorer/map", expect: everyone(200) },
  { route: "GET /v1/explorer/devices", expect: everyone(200) },
  {
    route: "GET /v1/explorer/devices/:deviceId",
    request: (w) => ({ path: `/v1/explorer/devices/${w.deviceA}` }),
    expect: everyone(200),
  },
  { route: "GET /v1/market/offers", expect: everyone(200) },

  // --- rewards
  { route: "GET /v1/rewards/epochs", expect: everyone(200) },
  {
    route: "GET /v1/rewards/epochs/:epoch",
    request: () => ({ path: "/v1/rewards/epochs/1" }),
    expect: everyone(404),
  },
  {
    route: "GET /v1/rewards/epochs/:epoch/proofs/:deviceId",
    request: (w) => ({ path: `/v1/rewards/epochs/1/proofs/${w.deviceA}` }),
    expect: everyone(404),
  },
  { route: "GET /v1/rewards/seasons", expect: everyone(200) },
  { route: "GET /v1/rewards/earnings", expect: suppliers(200, 200) },
  {
    route: "POST /v1/admin/rewards/seasons",
    request: () => ({
      path: "/v1/admin/rewards/seasons",
      body: {
        name: `s-${unique()}`,
        // Far beyond the genesis season, which a new network opens for its first year.
        startsAt: iso(5 * 365 * 24 * hour),
        endsAt: iso(5 * 365 * 24 * hour + 24 * hour),
        poolPerEpoch: "1000000",
        weights: Object.fromEntries(hardwareProfiles.map((p) => [p.id, 1])),
        minUpMinutes: 30,
      },
    }),
    expect: adminOnly(201),
  },
  {
    route: "POST /v1/admin/rewards/seasons/:seasonId/end",
    request: () => ({ path: `/v1/admin/rewards/seasons/${NO_SUCH_SEASON}/end`, body: { at: iso(hour) } }),
    expect: adminOnly(404),
  },
  {
    route: "POST /v1/admin/maintenance-windows",
    request: () => ({
      path: "/v1/admin/maintenance-windows",
      body: { start: iso(2 * hour), end: iso(3 * hour), graceMinutes: 30, reason: "matrix" },
    }),
    expect: adminOnly(201),
  },
  { route: "GET /v1/admin/maintenance-windows", expect: adminOnly(200) },

  // --- marketplace
  {
    route: "POST /v1/admin/credits",
    request: (w) => ({ path: "/v1/admin/credits", body: { userId: w.customer.userId, amount: "1000" } }),
    expect: adminOnly(201),
  },
  { route: "GET /v1/credits", expect: customers(200, 200) },
  {
    route: "POST /v1/stakes",
    request: async (w) => {
      await earn(w.db, w.owner.userId, 1000n);
      return { path: "/v1/stakes", body: { deviceId: w.deviceA, amount: "1000" } };
    },
    expect: ownedByOwner(201, 404),
    why: "a stake spends its owner's earnings: only the device's owner bonds it, never an admin for them",
  },
  { route: "GET /v1/stakes", expect: suppliers(200, 200) },
  {
    route: "POST /v1/stakes/:stakeId/unbond",
    request: async (w) => {
      await earn(w.db, w.owner.userId, 1000n);
      const stake = await bondStake(w.db, MATRIX_STAKES, {
        ownerId: w.owner.userId,
        deviceId: w.deviceA,
        amount: 1000n,
        at: new Date(),
      });
      return { path: `/v1/stakes/${stake.id}/unbond` };
    },
    expect: ownedByOwner(200, 404),
    why: "only the owner takes their stake back; anyone else's stake id is simply not found",
  },
  { route: "GET /v1/slashes", expect: everyone(200), why: "anyone may recheck a slash's evidence" },
  {
    route: "POST /v1/slashes/:slashId/appeal",
    request: async (w) => {
      const { slashId } = await stakedAndSlashed(w.db, MATRIX_STAKES, {
        ownerId: w.owner.userId,
        deviceId: w.deviceA,
        amount: 1000n,
      });
      return {
        path: `/v1/slashes/${slashId}/appeal`,
        body: { reason: "the proof ran during a driver update" },
      };
    },
    expect: ownedByOwner(202, 404),
    why: "only the slashed device's owner appeals; an admin cannot ask for a re-proof in their name",
  },
  {
    route: "POST /v1/clusters",
    request: () => ({
      path: "/v1/clusters",
      body: { gpuModel: "NVIDIA A100 (simulated)", count: 1, hours: 1, job: { command: "true" } },
    }),
    expect: customers(409),
    why: "authorized customers get past policy to the market (no verified capacity here)",
  },
  { route: "GET /v1/clusters", expect: customers(200, 200) },
  {
    route: "GET /v1/clusters/:clusterId",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}` }),
    expect: ownedByCustomer(200, 200),
  },
  {
    route: "POST /v1/clusters/:clusterId/cancel",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}/cancel`, body: {} }),
    expect: ownedByCustomer(409, 409),
    why: "the cluster is completed: its customer and admins pass policy and meet cluster_not_cancellable",
  },
  {
    route: "GET /v1/clusters/:clusterId/logs",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}/logs` }),
    expect: ownedByCustomer(200, 200),
  },
  {
    route: "GET /v1/clusters/:clusterId/ranks/:rank/exec",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}/ranks/0/exec` }),
    expect: ownedByCustomer(409, 404),
    why: "a shell in a job is its customer's alone: an admin gets the same 404 as a stranger; the cluster is completed",
  },
  {
    route: "GET /v1/clusters/:clusterId/ranks/:rank/forward",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}/ranks/0/forward?port=8888` }),
    expect: ownedByCustomer(409, 404),
    why: "a port of a job is its customer's alone, as exec; the cluster is completed",
  },
  {
    route: "GET /v1/clusters/:clusterId/network",
    request: (w) => ({ path: `/v1/clusters/${w.clusterId}/network` }),
    expect: ownedByCustomer(409, 409),
    why: "the cluster is completed: its customer and admins pass policy and meet cluster_not_running",
  },

  // --- embedded identity provider pages (cookie sessions; they authenticate in-band)
  { route: "GET /interaction/assets/auth.css", expect: everyone(200) },
  {
    route: "GET /interaction/:uid",
    request: () => ({ path: "/interaction/no-such-uid" }),
    expect: everyone(400),
    why: "without the provider's signed interaction cookie the page only says the sign-in expired",
  },
  {
    route: "POST /interaction/:uid/login",
    request: () => ({
      path: "/interaction/no-such-uid/login",
      body: { email: "x@example.test", password: "x" },
    }),
    expect: everyone(400),
  },
  { route: "GET /invite/:token", request: () => ({ path: "/invite/no-such-token" }), expect: everyone(404) },
  {
    route: "POST /invite/:token",
    request: () => ({ path: "/invite/no-such-token", body: { password: "a-long-enough-password" } }),
    expect: everyone(404),
  },
  // The embedded provider is mounted for every method under /oidc; it authenticates clients itself.
  ...oidcRows(),
];

function oidcRows(): MatrixRow[] {
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
  return methods.flatMap((method): MatrixRow[] => [
    { route: `${method} /oidc`, expect: everyone(404), why: "the provider answers only its own endpoints" },
    {
      route: `${method} /oidc/*`,
      request: () => ({ path: method === "GET" ? "/oidc/.well-known/openid-configuration" : "/oidc/token" }),
      expect: everyone(method === "GET" ? 200 : method === "POST" ? 400 : 404),
      why: "discovery is public; the token endpoint refuses a client that does not authenticate",
    },
  ]);
}
