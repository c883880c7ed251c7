import type { Config } from "../config.js";
import { connectChain, deployRewardRoots, describeChainError, readPublisherKey } from "./chain-client.js";

/**
 * `ignis-server chain deploy`: deploys RewardRoots from the committed artifact, with the key file's account as
 * its publisher, and prints the address on the last line of stdout (progress goes to stderr). Exit 0 when
 * deployed, 1 when it failed, 2 when the settings are missing.
 */
export async function runChainDeployCommand(config: Config): Promise<number> {
  const { rpcUrl, keyFile } = config.chain;
  if (!rpcUrl || !keyFile) {
    process.stderr.write(
      "ignis-server chain deploy: IGNIS_CHAIN_RPC and IGNIS_CHAIN_KEY_FILE are required\n",
    );
    return 2;
  }
  try {
    const account = readPublisherKey(keyFile);
    const conn = await connectChain(rpcUrl, account);
    process.stderr.write(`deploying RewardRoots on chain ${conn.chain.id} from ${account.address}\n`);
    const address = await deployRewardRoots(conn);
    process.stderr.write(
      `RewardRoots deployed; set IGNIS_CHAIN_CONTRACT=${address} to publish epoch roots\n`,
    );
    process.stdout.write(`${address}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`ignis-server chain deploy failed: ${describeChainError(error, rpcUrl)}\n`);
    return 1;
  }
}
