import { REWARD_ROOTS_ABI } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { createPublicClient, getAddress, type Hex, http } from "viem";

const ZERO_ROOT = `0x${"0".repeat(64)}`;

/** Where to read roots: an EVM JSON-RPC endpoint and the RewardRoots contract the user trusts. */
export interface ChainSource {
  rpcUrl: string;
  contract: string;
}

/** The outcome of the on-chain check: the root read from the contract, and what is wrong, if anything. */
export interface OnChainCheck {
  onChainRoot: string | null;
  problems: string[];
}

/**
 * Checks a proof against the chain instead of the server's word: reads the epoch's root from the RewardRoots
 * contract the user named, requires the server's root to equal it, verifies the proof against it with
 * StandardMerkleTree, and asks the contract's own `verify`. A server that changed a leaf and recomputed its tree
 * passes the offline check but fails here, since its root is not the one published. Throws when the chain
 * cannot be read (the caller reports that as "cannot check").
 */
export async function checkOnChain(
  source: ChainSource,
  published: {
    epoch: number;
    serverRoot: string;
    leaf: readonly string[];
    leafEncoding: readonly string[];
    proof: readonly string[];
  },
): Promise<OnChainCheck> {
  const client = createPublicClient({ transport: http(source.rpcUrl, { retryCount: 1, timeout: 20_000 }) });
  const address = getAddress(source.contract);
  const epoch = BigInt(published.epoch);
  const onChain = await client.readContract({
    address,
    abi: REWARD_ROOTS_ABI,
    functionName: "roots",
    args: [epoch],
  });
  if (onChain === ZERO_ROOT) {
    return {
      onChainRoot: null,
      problems: [`contract ${address} has no root for epoch ${published.epoch} yet`],
    };
  }
  const problems: string[] = [];
  if (onChain.toLowerCase() !== published.serverRoot.toLowerCase()) {
    problems.push(`the server's root ${published.serverRoot} is not the root on chain ${onChain}`);
  }
  let verified = false;
  try {
    verified = StandardMerkleTree.verify(
      onChain,
      [...published.leafEncoding],
      [...published.leaf],
      [...published.proof],
    );
  } catch (error) {
    problems.push(`the proof could not be processed: ${(error as Error).message}`);
  }
  if (!verified) problems.push("the Merkle proof does not lead from the leaf to the root on chain");
  const [, deviceId, amount] = published.leaf;
  const contractSays =
    /^\d+$/.test(amount ?? "") && published.proof.every((p) => /^0x[0-9a-fA-F]{64}$/.test(p))
      ? await client.readContract({
          address,
          abi: REWARD_ROOTS_ABI,
          functionName: "verify",
          args: [epoch, deviceId ?? "", BigInt(amount!), published.proof as Hex[]],
        })
      : false;
  if (!contractSays) problems.push(`the contract's verify(epoch, deviceId, amount, proof) rejects the proof`);
  return { onChainRoot: onChain, problems };
}
