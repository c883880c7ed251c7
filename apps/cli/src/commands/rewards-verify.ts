import { parseArgs } from "node:util";
import { creditsOf, microUnitsOfCredits, PublicRewardEpoch, RewardLeaf } from "@ignis/protocol";
import { z } from "zod";
import { ApiError, apiRequest } from "../api-client.js";
import { type Command, UsageError } from "../command.js";
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
} as const;

/**
 * `ignis rewards verify --server URL --epoch E --device ID [--amount A] [--json]`: fetches the epoch's published
 * root and the device's proof, then checks them offline with OpenZeppelin's StandardMerkleTree. Exit 0 when
 * valid, 1 when not, 3 when they could not be fetched. No credential is needed: epochs and proofs are public.
 */
export const command: Command = {
  path: ["rewards", "verify"],
  summary: "check a device's reward proof for an epoch offline (exit 0 when valid)",
  usage: "usage: ignis rewards verify --server URL --epoch E --device ID [--amount CREDITS] [--json]",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: { server?: string; epoch?: string; device?: string; amount?: string; json?: boolean };
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
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...check, epoch, deviceId, root: epochView.root })}\n`);
    } else if (check.valid) {
      process.stdout.write(
        `valid: device ${deviceId} earned ${creditsOf(check.amount ?? "0")} credits in epoch ${epoch} (root ${epochView.root})\n`,
      );
    } else {
      process.stdout.write(`INVALID: ${check.problems.join("; ")}\n`);
    }
    return check.valid ? 0 : 1;
  },
};
