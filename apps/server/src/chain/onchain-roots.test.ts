import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { REWARD_LEAF_ENCODING, REWARD_ROOTS_ABI } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { sql } from "kysely";
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochAt, epochStartMs } from "../rewards/epoch-clock.js";
import { insertDevice, recordUptime, slots } from "../rewards/reward-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { type EvmNode, startEvmNode } from "../testing/evm-node.js";
import { openTcpGate, type TcpGate } from "../testing/tcp-gate.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";

// Long epochs: the genesis season's first epoch must not close (and so forbid the past season) on a slow machine.
const EPOCH_SECONDS = 600;
const SERVER_BIN = fileURLToPath(new URL("../../bin/ignis-server.js", import.meta.url));
const CLI = fileURLToPath(new URL("../../../cli/bin/ignis.js", import.meta.url));
const run = promisify(execFile);

async function exec(
  bin: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

type Epoch = {
  epoch: number;
  root: string;
  chain: { contract: string; txHash: string; blockNumber: number } | null;
};

let node: EvmNode;
let gate: TcpGate;
let scratch: string;

beforeAll(async () => {
  node = await startEvmNode({ accounts: 2 });
  gate = await openTcpGate(node.port);
  scratch = mkdtempSync(join(tmpdir(), "ignis-chain-"));
}, 180_000);

afterAll(async () => {
  await gate?.close();
  await node?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const local = defineChain({
  id: 31337,
  name: "hardhat",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1"] } },
});
const reader = () => createPublicClient({ chain: local, transport: http(node.url) });
const signer = (key: Hex) =>
  createWalletClient({ chain: local, transport: http(node.url), account: privateKeyToAccount(key) });

/** The custom error a reverted call carries, by name. */
async function revertName(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
  } catch (error) {
    const reverted =
      error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : undefined;
    return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : String(error);
  }
  return undefined;
}

describe("ignis-server chain deploy", () => {
  it("refuses to run without IGNIS_CHAIN_RPC and a key file, naming what is missing", async () => {
    const result = await exec(SERVER_BIN, ["chain", "deploy"], {
      IGNIS_DATA_DIR: scratch,
      IGNIS_CHAIN_RPC: "",
      IGNIS_CHAIN_KEY_FILE: "",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IGNIS_CHAIN_RPC and IGNIS_CHAIN_KEY_FILE are required");
  }, 120_000);

  it("refuses a malformed key file without printing what it holds", async () => {
    const bad = join(scratch, "bad-key");
    writeFileSync(bad, "0xnot-a-key-but-secret-looking\n", { mode: 0o600 });
    const result = await exec(SERVER_BIN, ["chain", "deploy"], {
      IGNIS_DATA_DIR: scratch,
      IGNIS_CHAIN_RPC: node.url,
      IGNIS_CHAIN_KEY_FILE: bad,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("must hold one line: 0x and 64 hex digits");
    expect(result.stderr + result.stdout).not.toContain("secret-looking");
  }, 120_000);
});

describeEachDialect("reward roots on chain", (database) => {
  let t: TestServer;
  let first: number;
  let contract: Address;
  let keyFile: string;
  const dev: Record<string, string> = {};

  const get = async <T>(path: string, key?: string, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    keyFile = join(mkdtempSync(join(scratch, "key-")), "publisher-key");
    writeFileSync(keyFile, `${node.keys[0]}\n`, { mode: 0o600 });
    const deployed = await exec(SERVER_BIN, ["chain", "deploy"], {
      IGNIS_DATA_DIR: scratch,
      IGNIS_CHAIN_RPC: gate.url,
      IGNIS_CHAIN_KEY_FILE: keyFile,
    });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout + deployed.stderr).not.toContain(node.keys[0]!.slice(2));
    contract = deployed.stdout.trim().split("\n").at(-1) as Address;
    expect(contract).toMatch(/^0x[0-9a-fA-F]{40}$/);

    t = await startTestServer({
      database: database(),
      env: {
        IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_CHAIN_RPC: gate.url,
        IGNIS_CHAIN_KEY_FILE: keyFile,
        IGNIS_CHAIN_CONTRACT: contract,
        IGNIS_CHAIN_RETRY_SECONDS: "0.2",
      },
    });
    const db = t.server.ctx.db;
    const { body: user } = await get<{ id: string }>("/v1/admin/users", t.adminKey, {
      email: "chain-supplier@example.com",
      roles: ["supplier"],
    });
    first = epochAt(Date.now(), EPOCH_SECONDS) - 40;
    dev.a = await insertDevice(db, user.id, { profile: "sim-h100" });
    dev.b = await insertDevice(db, user.id, { profile: "sim-a100" });
    for (let epoch = first; epoch < first + 3; epoch++) {
      await recordUptime(db, dev.a, epoch, slots(0, 60));
      await recordUptime(db, dev.b, epoch, slots(5, 55));
    }
  }, 180_000);
  afterAll(() => t?.stop());

  /** With the node unreachable: a season of three past epochs, closed; the publisher fails and keeps the roots. */
  async function closeWhileDown() {
    const weights = Object.fromEntries(t.server.ctx.rewards.knownProfiles.map((p) => [p, 1]));
    const created = await get("/v1/admin/rewards/seasons", t.adminKey, {
      name: "past",
      startsAt: new Date(epochStartMs(first, EPOCH_SECONDS)).toISOString(),
      endsAt: new Date(epochStartMs(first + 3, EPOCH_SECONDS)).toISOString(),
      poolPerEpoch: "6000000",
      weights: { ...weights, "sim-h100": 3, "sim-a100": 2 },
      minUpMinutes: 40,
    });
    expect(created.status).toBe(201);
    // The close finishes with the node unreachable: it only queued the roots.
    await waitFor("the three epochs to close", async () => {
      await t.server.ctx.rewards.closeDueNow();
      const { body } = await get<{ items: Epoch[] }>("/v1/rewards/epochs");
      return body.items.length === 3;
    });
    const closed = await get<{ items: Epoch[] }>("/v1/rewards/epochs");
    expect(closed.body.items.map((e) => e.chain)).toEqual([null, null, null]);
    const failed = await waitFor("the publisher to fail against the downed node", async () => {
      const rows = await t.server.ctx.db
        .selectFrom("reward_root_publications")
        .select(["status", "attempts", "last_error"])
        .where("contract", "=", contract.toLowerCase())
        .execute();
      return rows.length === 3 && rows.some((r) => r.attempts > 0) ? rows : undefined;
    });
    expect(failed.every((r) => r.status === "pending")).toBe(true);
    expect(failed.find((r) => r.attempts > 0)?.last_error).toBeTruthy();
  }

  it("closes epochs while the chain node is down and publishes each root once the node is back", async () => {
    await gate.down();
    try {
      await closeWhileDown();
    } finally {
      await gate.up();
    }
    const published = await waitFor("every root on chain", async () => {
      const { body } = await get<{ items: Epoch[] }>("/v1/rewards/epochs");
      return body.items.every((e) => e.chain) ? body.items : undefined;
    });
    const client = reader();
    for (const epoch of published) {
      expect(epoch.chain).toMatchObject({ contract: contract.toLowerCase() });
      const onChain = await client.readContract({
        address: contract,
        abi: REWARD_ROOTS_ABI,
        functionName: "roots",
        args: [BigInt(epoch.epoch)],
      });
      expect(onChain).toBe(epoch.root);
      const receipt = await client.getTransactionReceipt({ hash: epoch.chain!.txHash as Hex });
      expect(receipt.status).toBe("success");
      expect(Number(receipt.blockNumber)).toBe(epoch.chain!.blockNumber);
    }
    const single = await get<Epoch>(`/v1/rewards/epochs/${first}`);
    expect(single.body.chain).toEqual(published.find((e) => e.epoch === first)!.chain);
    // Published once: one transaction per epoch, whatever the retries.
    const txs = new Set(published.map((e) => e.chain!.txHash));
    expect(txs.size).toBe(3);
    const rows = await t.server.ctx.db
      .selectFrom("reward_root_publications")
      .select([sql<number>`count(*)::int`.as("n")])
      .where("status", "=", "published")
      .where("contract", "=", contract.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(rows.n).toBe(3);
  }, 180_000);

  it("refuses to overwrite a published epoch's root, and refuses anyone but the publisher", async () => {
    const client = reader();
    const before = await client.readContract({
      address: contract,
      abi: REWARD_ROOTS_ABI,
      functionName: "roots",
      args: [BigInt(first)],
    });
    const forged = `0x${"ab".repeat(32)}` as Hex;
    const overwrite = await revertName(() =>
      client.simulateContract({
        account: privateKeyToAccount(node.keys[0]!),
        address: contract,
        abi: REWARD_ROOTS_ABI,
        functionName: "publish",
        args: [BigInt(first), forged],
      }),
    );
    expect(overwrite).toBe("EpochAlreadyPublished");
    // Sent without a simulation, the transaction is refused as well.
    const sent = await revertName(() =>
      signer(node.keys[0]!).writeContract({
        address: contract,
        abi: REWARD_ROOTS_ABI,
        functionName: "publish",
        args: [BigInt(first), forged],
        gas: 100_000n,
      }),
    );
    expect(sent).toBe("EpochAlreadyPublished");
    const stranger = await revertName(() =>
      client.simulateContract({
        account: privateKeyToAccount(node.keys[1]!),
        address: contract,
        abi: REWARD_ROOTS_ABI,
        functionName: "publish",
        args: [BigInt(first + 1000), forged],
      }),
    );
    expect(stranger).toBe("NotPublisher");
    const after = await client.readContract({
      address: contract,
      abi: REWARD_ROOTS_ABI,
      functionName: "roots",
      args: [BigInt(first)],
    });
    expect(after).toBe(before);
  }, 120_000);

  it("verifies a device's proof on chain, and the contract rejects a tampered one", async () => {
    const { body: proof } = await get<{ leaf: string[]; proof: Hex[] }>(
      `/v1/rewards/epochs/${first}/proofs/${dev.a}`,
    );
    const client = reader();
    const verify = (amount: bigint, path: Hex[]) =>
      client.readContract({
        address: contract,
        abi: REWARD_ROOTS_ABI,
        functionName: "verify",
        args: [BigInt(first), dev.a!, amount, path],
      });
    expect(await verify(BigInt(proof.leaf[2]!), proof.proof)).toBe(true);
    expect(await verify(BigInt(proof.leaf[2]!) + 1n, proof.proof)).toBe(false);
    const flipped = [...proof.proof];
    flipped[0] = `0x${"00".repeat(32)}` as Hex;
    expect(await verify(BigInt(proof.leaf[2]!), flipped)).toBe(false);

    const ok = await exec(CLI, [
      "rewards",
      "verify",
      "--server",
      t.url,
      "--epoch",
      String(first),
      "--device",
      dev.a!,
      "--onchain",
      "--rpc",
      node.url,
      "--contract",
      contract,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("the root on chain");
  }, 120_000);

  it("rejects with --onchain a forged tree that the offline check accepts", async () => {
    // A dishonest server: one device's amount raised, the tree rebuilt, its root served as the epoch's.
    const { body: epoch } = await get<Record<string, unknown>>(`/v1/rewards/epochs/${first}`);
    const { body: honest } = await get<{ leaf: string[] }>(`/v1/rewards/epochs/${first}/proofs/${dev.a}`);
    const { body: other } = await get<{ leaf: string[] }>(`/v1/rewards/epochs/${first}/proofs/${dev.b}`);
    const raised = [String(first), dev.a!, String(BigInt(honest.leaf[2]!) + 1_000_000n)];
    const tree = StandardMerkleTree.of([raised, other.leaf], [...REWARD_LEAF_ENCODING]);
    const forger: Server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === `/v1/rewards/epochs/${first}`) {
        res.end(JSON.stringify({ ...epoch, root: tree.root }));
      } else if (req.url === `/v1/rewards/epochs/${first}/proofs/${dev.a}`) {
        res.end(
          JSON.stringify({
            leaf: raised,
            leafEncoding: REWARD_LEAF_ENCODING,
            proof: tree.getProof(0),
            root: tree.root,
          }),
        );
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ code: "not_found" }));
      }
    });
    await new Promise<void>((resolve) => forger.listen(0, "127.0.0.1", resolve));
    const address = forger.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    try {
      const args = ["rewards", "verify", "--server", url, "--epoch", String(first), "--device", dev.a!];
      const offline = await exec(CLI, args);
      expect(offline.code, "the offline check trusts the server's self-consistent tree").toBe(0);
      const onchain = await exec(CLI, [...args, "--onchain", "--rpc", node.url, "--contract", contract]);
      expect(onchain.code).toBe(1);
      expect(onchain.stdout).toContain("INVALID");
      expect(onchain.stdout).toContain("is not the root on chain");
      expect(onchain.stdout).toContain("rejects the proof");
    } finally {
      await new Promise((resolve) => forger.close(resolve));
    }
  }, 120_000);
});
