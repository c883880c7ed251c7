import type { CreateClusterBody, JobServerMessage, SandboxReport } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { insertUser } from "../identity/users.js";
import { ledgerImbalance } from "../ledger/balances.js";
import { insertDeviceRows, updateDeviceRows } from "../testing/device-rows.js";
import { grantCredits } from "./credits.js";
import type { MarketContext, MarketSettings } from "./market-context.js";
import { createPriceBook } from "./price-book.js";

/** The model the fixtures' devices claim, with its default price per GPU-hour. */
export const FIXTURE_MODEL = "Test GPU";
/** The fixtures' default price per GPU-hour: 1.2 units, so one billing minute costs exactly 20,000. */
export const FIXTURE_PRICE = 1_200_000n;

/** A market context over a test database with a clock the test moves, and a channel that records orders. */
export interface MarketHarness {
  ctx: MarketContext;
  sent: { deviceId: string; message: JobServerMessage }[];
  live: Set<string>;
  clock: { ms: number };
  advance(ms: number): void;
}

/** A one-GPU, one-hour request for `model` running `true`, with `over` on top. */
export function clusterRequest(model: string, over: Partial<CreateClusterBody> = {}): CreateClusterBody {
  return { gpuModel: model, count: 1, hours: 1, job: { command: "true", args: [] }, ...over };
}

/** Settings for tests: one-second billing minutes and short timeouts. */

export function testSettings(over: Partial<MarketSettings> = {}): MarketSettings {
  return {
    billingMinuteMs: 1000,
    feeBps: 1000,
    maxDevices: 8,
    maxHours: 24,
    archiveMaxBytes: 64 * 1024,
    logMaxBytesPerJob: 4096,
    epochSeconds: 60,
    stakePerGpu: 0n,
    stakePendingSeconds: 0,
    startTimeoutMs: 5000,
    lostAfterMs: 3000,
    flushMs: 500,
    // Suites not about the wait for a replacement refund a rank that finds no device at once.
    replaceWithinMs: 0,
    ...over,
  };
}

/** Builds a harness; the clock starts at a fixed instant so metered minutes are exact. */
export function marketHarness(db: Db, over: Partial<MarketSettings> = {}): MarketHarness {
  const clock = { ms: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const sent: MarketHarness["sent"] = [];
  const live = new Set<string>();
  const ctx: MarketContext = {
    db,
    settings: testSettings(over),
    prices: createPriceBook(
      [
        { profile: "test-gpu", gpuModel: FIXTURE_MODEL, defaultPricePerGpuHour: FIXTURE_PRICE },
        { profile: "other-gpu", gpuModel: "Other GPU", defaultPricePerGpuHour: 500_000n },
      ],
      20_000n,
    ),
    channel: {
      send: (deviceId, message) => void sent.push({ deviceId, message }),
      isLive: (deviceId) => live.has(deviceId),
    },
    now: () => clock.ms,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  const advance = (ms: number) => {
    clock.ms += ms;
  };
  return { ctx, sent, live, clock, advance };
}

/** A user with roles, created directly in the database. */
export async function createTestUser(db: Db, roles: ("customer" | "supplier" | "admin")[]): Promise<string> {
  const user = await insertUser(db, { issuer: "test", email: `${newId("usr")}@example.com`, roles });
  return user.id;
}

/** A customer holding `credit` micro-units. */
export async function createCustomer(db: Db, credit: bigint): Promise<string> {
  const id = await createTestUser(db, ["customer"]);
  if (credit > 0n) await grantCredits(db, { userId: id, amount: credit.toString(), grantedBy: id });
  return id;
}

/** Online, verified devices of a supplier, seen at `seenAt`, with an optional own price. */
export async function insertDevices(
  db: Db,
  input: {
    ownerId: string;
    count: number;
    seenAt: number;
    model?: string;
    profile?: string;
    price?: bigint | null;
    verification?: "verified" | "unverified";
    status?: "online" | "offline";
    /** The job sandbox the device's worker reported: a container engine unless a test says otherwise. */
    sandbox?: "container" | "unsafe-subprocess" | "unavailable" | "none";
  },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < input.count; i++) {
    const id = newId("dev");
    ids.push(id);
    await insertDeviceRows(db, [
      {
        id,
        owner_id: input.ownerId,
        status: input.status ?? "online",
        verification: input.verification ?? "verified",
        profile: input.profile ?? "test-gpu",
        gpu_vendor: "nvidia",
        gpu_model: input.model ?? FIXTURE_MODEL,
        gpu_count: 1,
        vram_gb: 80,
        hardware: JSON.stringify(sandboxHardware(input.sandbox ?? "container")),
        min_price_per_hour: input.price === undefined || input.price === null ? null : input.price.toString(),
        last_seen_at: new Date(input.seenAt),
        // As the gateway records it when the device's session opens (10.0.0.1, 10.0.0.2, ...).
        session_address: `10.0.0.${i + 1}`,
      },
    ]);
  }
  return ids;
}

/** The metadata a device's worker reports about its sandbox, as the fixtures store it. */
export function sandboxHardware(kind: "container" | "unsafe-subprocess" | "unavailable" | "none"): {
  sandbox?: SandboxReport;
} {
  switch (kind) {
    case "container":
      return {
        sandbox: {
          kind,
          engine: "podman",
          version: "4.3.1",
          runtime: "runc",
          rootless: false,
          network: "filtered",
          gpus: "nvidia-cdi",
        },
      };
    case "unsafe-subprocess":
      return {
        sandbox: { kind, reason: "unsafe_subprocess_jobs", message: "started with --unsafe-subprocess-jobs" },
      };
    case "unavailable":
      return { sandbox: { kind, reason: "sandbox_unavailable", message: "no container engine found" } };
    case "none":
      return {};
  }
}

/** Marks devices as heartbeating at the harness's current time. */
export async function heartbeat(h: MarketHarness, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await updateDeviceRows(h.ctx.db, deviceIds, { last_seen_at: new Date(h.clock.ms) });
}

/** Asserts the ledger's global invariant: every transaction balanced. */
export async function expectBalancedLedger(db: Db): Promise<void> {
  const imbalance = await ledgerImbalance(db);
  if (imbalance !== 0n) throw new Error(`the ledger is out of balance by ${imbalance}`);
}
