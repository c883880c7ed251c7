import { getAddress } from "viem";
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { JobLog } from "../jobs/interval-job.js";
import { readPublisherKey } from "./chain-client.js";
import { type RootPublisher, startRootPublisher } from "./root-publisher.js";

/**
 * The root publisher the configuration asks for: reads the key file now (a missing or malformed key stops the
 * start with the file's name, never its content) and starts draining the outbox at once, so roots queued before
 * a restart go out without waiting for the next close.
 */
export function startChainPublisher(
  config: Config,
  db: Db,
  log: JobLog & { info(obj: object, msg: string): void },
): RootPublisher {
  const { rpcUrl, keyFile, contract, retrySeconds } = config.chain;
  if (!rpcUrl || !keyFile || !contract)
    throw new Error("the chain publisher needs an RPC URL, a key file and a contract");
  const account = readPublisherKey(keyFile);
  log.info({ contract, publisher: account.address }, "publishing reward roots on chain");
  return startRootPublisher({
    db,
    rpcUrl,
    contract: getAddress(contract),
    account,
    retrySeconds,
    replicaId: config.replicaId,
    log,
  });
}
