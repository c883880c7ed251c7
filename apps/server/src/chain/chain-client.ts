import { readFileSync } from "node:fs";
import { REWARD_ROOTS_ABI, REWARD_ROOTS_BYTECODE } from "@ignis/protocol";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";

const ZERO_ROOT = `0x${"0".repeat(64)}`;

/** A connection to an EVM chain through its JSON-RPC endpoint, signing with the publisher's key. */
export interface ChainConnection {
  rpcUrl: string;
  chain: Chain;
  account: PrivateKeyAccount;
  public: PublicClient;
  wallet: WalletClient;
}

/** What publishing one root came to. */
export type PublishOutcome =
  | { kind: "published"; txHash: Hex; blockNumber: number }
  | { kind: "conflict"; onChain: Hex };

/**
 * Reads the publisher's private key: one line, 0x and 64 hex digits. The key never appears in an error: a bad
 * file is described by what is wrong with it, not by what it holds.
 */
export function readPublisherKey(file: string): PrivateKeyAccount {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new Error(
      `cannot read the chain key file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new Error(`the chain key file ${file} must hold one line: 0x and 64 hex digits`);
  }
  return privateKeyToAccount(text as Hex);
}

/** Connects to the RPC endpoint (asks for its chain id, so this fails while the node is unreachable). */
export async function connectChain(rpcUrl: string, account: PrivateKeyAccount): Promise<ChainConnection> {
  // Retries are the outbox's business (with backoff across ticks); a request here fails at once.
  const transport = http(rpcUrl, { retryCount: 0, timeout: 15_000 });
  const probe = createPublicClient({ transport });
  const id = await probe.getChainId();
  const chain = defineChain({
    id,
    name: `chain ${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  return {
    rpcUrl,
    chain,
    account,
    public: createPublicClient({ chain, transport, pollingInterval: 250 }),
    wallet: createWalletClient({ chain, transport, account, pollingInterval: 250 }),
  };
}

/** Deploys RewardRoots with the connection's account as its publisher; resolves to the contract's address. */
export async function deployRewardRoots(conn: ChainConnection): Promise<Address> {
  const hash = await conn.wallet.deployContract({
    abi: REWARD_ROOTS_ABI,
    bytecode: REWARD_ROOTS_BYTECODE,
    account: conn.account,
    chain: conn.chain,
  });
  const receipt = await conn.public.waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new Error(`the deployment transaction ${hash} failed`);
  }
  return getAddress(receipt.contractAddress);
}

/**
 * Publishes an epoch's root. The contract is asked first: a root an earlier attempt already put there (its
 * receipt lost to a crash or a dropped connection) is found with its RootPublished event instead of sent again;
 * a different root there is a conflict no retry can fix.
 */
export async function publishRoot(
  conn: ChainConnection,
  contract: Address,
  epoch: number,
  root: Hex,
): Promise<PublishOutcome> {
  const onChain = await conn.public.readContract({
    address: contract,
    abi: REWARD_ROOTS_ABI,
    functionName: "roots",
    args: [BigInt(epoch)],
  });
  if (onChain !== ZERO_ROOT) {
    if (onChain.toLowerCase() !== root.toLowerCase()) return { kind: "conflict", onChain };
    const events = await conn.public.getContractEvents({
      address: contract,
      abi: REWARD_ROOTS_ABI,
      eventName: "RootPublished",
      args: { epoch: BigInt(epoch) },
      fromBlock: 0n,
    });
    const event = events.at(-1);
    if (!event?.transactionHash || event.blockNumber === null) {
      throw new Error(`epoch ${epoch}'s root is on chain but its RootPublished event was not found`);
    }
    return { kind: "published", txHash: event.transactionHash, blockNumber: Number(event.blockNumber) };
  }
  const { request } = await conn.public.simulateContract({
    account: conn.account,
    address: contract,
    abi: REWARD_ROOTS_ABI,
    functionName: "publish",
    args: [BigInt(epoch), root],
  });
  const hash = await conn.wallet.writeContract(request);
  const receipt = await conn.public.waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success") throw new Error(`the publish transaction ${hash} reverted`);
  return { kind: "published", txHash: hash, blockNumber: Number(receipt.blockNumber) };
}

/**
 * A failure as one short line fit for the database and the log: viem's short message, with the RPC URL (which
 * may carry a provider's API key) replaced by its origin.
 */
export function describeChainError(error: unknown, rpcUrl: string): string {
  const e = error as { shortMessage?: string; message?: string };
  const text = (e.shortMessage ?? e.message ?? String(error)).split("\n")[0]!.slice(0, 300);
  let origin = "the RPC endpoint";
  try {
    origin = new URL(rpcUrl).origin;
  } catch {}
  return text.replaceAll(rpcUrl, origin);
}
