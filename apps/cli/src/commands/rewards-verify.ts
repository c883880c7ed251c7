import { parseArgs } from "node:util";
import { creditsOf, microUnitsOfCredits, PublicRewardEpoch, RewardLeaf } from "@ignis/protocol";
import { z } from "zod";
import { ApiError, apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
import { checkOnChain } from "../rewards/onchain-root.js";
import { checkRewardProof } from "../rewards/verify-proof.js";

const ProofAnswer = z.object({
  leaf: RewardLeaf,
  leafEncoding: z.array(z.string()),
  proof: z.array(z.string()),
  root: z.string(),
});

/** Exit code when the proof could not be fetched at all (distinct from 1: fetched and invalid). */
const CANNOT_CHECK = 3;

const OPTIONS = {
  server: { type: "string" },
  epoch: { type: "string" },
  device: { type: "string" },
  amount: { type: "string" },
  json: { type: "boolean" },
  onchain: { type: "boolean" },
  rpc: { type: "string" },
  contract: { type: "string" },
} as const;

/**
 * `ignis rewards verify --server URL --epoch E --device ID [--amount A] [--json] [--onchain --rpc URL --contract
 * ADDR]`: fetches the epoch's published root and the device's proof, then checks them offline with OpenZeppelin's
 * StandardMerkleTree. With --onchain the root comes from the RewardRoots contract instead of the server (see
 * onchain-root.ts). Exit 0 when valid, 1 when not, 3 when they could not be fetched. No credential is needed.
 */
export const command: Command = {
  path: ["rewards", "verify"],
  summary: "check a device's reward proof for an epoch offline (exit 0 when valid)",
  usage:
    "usage: ignis rewards verify --server URL --epoch E --device ID [--amount CREDITS] [--json]\n" +
    "         [--onchain --rpc URL --contract ADDRESS]   (or IGNIS_CHAIN_RPC, IGNIS_CHAIN_CONTRACT)",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: {
      server?: string;
      epoch?: string;
      device?: string;
      amount?: string;
      json?: boolean;
      onchain?: boolean;
      rpc?: string;
      contract?: string;
    };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: OPTIONS,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const server = values.server ?? process.env.IGNIS_SERVER;
    if (!server || !values.epoch || !values.device)
      throw new UsageError("--server, --epoch and --device are required");
    if (!/^\d{1,15}$/.test(values.epoch)) throw new UsageError("--epoch must be a non-negative integer");
    const expected = values.amount === undefined ? undefined : microUnitsOfCredits(values.amount);
    if (values.amount !== undefined && expected === undefined) {
      throw new UsageError(`--amount takes credits (1.25), got '${values.amount}'`);
    }
    // The contract comes from the user, never from the server: a dishonest server would name its own.
    const chain = values.onchain
      ? {
          rpcUrl: values.rpc ?? process.env.IGNIS_CHAIN_RPC,
          contract: values.contract ?? process.env.IGNIS_CHAIN_CONTRACT,
        }
      : undefined;
    if (chain && (!chain.rpcUrl || !/^https?:\/\//.test(chain.rpcUrl))) {
      throw new UsageError(
        "--onchain needs --rpc URL (or IGNIS_CHAIN_RPC), an http:// or https:// JSON-RPC URL",
      );
    }
    if (chain && (!chain.contract || !/^0x[0-9a-fA-F]{40}$/.test(chain.contract))) {
      throw new UsageError(
        "--onchain needs --contract ADDRESS (or IGNIS_CHAIN_CONTRACT): 0x and 40 hex digits",
      );
    }
    const epoch = Number(values.epoch);
    const deviceId = values.device;
    let epochView: PublicRewardEpoch;
    let answer: z.infer<typeof ProofAnswer>;
    try {
      epochView = PublicRewardEpoch.parse(await apiRequest<unknown>(server, `v1/rewards/epochs/${epoch}`));
      if (epochView.status !== "closed" || !epochView.root) {
        process.stderr.write(`ignis: epoch ${epoch} is ${epochView.status} and has no root yet\n`);
        return CANNOT_CHECK;
      }
      const path = `v1/rewards/epochs/${epoch}/proofs/${encodeURIComponent(deviceId)}`;
      answer = ProofAnswer.parse(await apiRequest<unknown>(server, path));
    } catch (error) {
      const reason = error instanceof ApiError ? `${error.code}: ${error.message}` : (error as Error).message;
      process.stderr.write(`ignis: cannot fetch the proof: ${reason}\n`);
      return CANNOT_CHECK;
    }
    const check = checkRewardProof(
      {
        epochRoot: epochView.root,
        proofRoot: answer.root,
        leaf: answer.leaf,
        leafEncoding: answer.leafEncoding,
        proof: answer.proof,
      },
      { epoch, deviceId, ...(expected !== undefined ? { amount: expected } : {}) },
    );
    let onChainRoot: string | null | undefined;
    if (chain) {
      try {
        const onChain = await checkOnChain(
          { rpcUrl: chain.rpcUrl!, contract: chain.contract! },
          {
            epoch,
            serverRoot: epochView.root,
            leaf: answer.leaf,
            leafEncoding: answer.leafEncoding,
            proof: answer.proof,
          },
        );
        onChainRoot = onChain.onChainRoot;
        check.problems.push(...onChain.problems);
        check.valid = check.problems.length === 0;
      } catch (error) {
        const e = error as { shortMessage?: string; message?: string };
        process.stderr.write(`ignis: cannot read the root on chain: ${e.shortMessage ?? e.message}\n`);
        return CANNOT_CHECK;
      }
    }
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...check, epoch, deviceId, root: epochView.root, ...(chain ? { onChainRoot } : {}) })}\n`,
      );
    } else if (check.valid) {
      process.stdout.write(
        `valid: device ${deviceId} earned ${creditsOf(check.amount ?? "0")} credits in epoch ${epoch} (root ${epochView.root}${chain ? `, the root on chain at ${chain.contract}` : ""})\n`,
      );
    } else {
      process.stdout.write(`INVALID: ${check.problems.join("; ")}\n`);
    }
    return check.valid ? 0 : 1;
  },
};
