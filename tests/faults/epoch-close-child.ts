/**
 * A process that closes one epoch and freezes inside the close transaction once it reaches a stage, so that its
 * parent can kill -9 it mid-way (tests/faults/epoch-close-interrupt-scenario.ts).
 *   node --import tsx tests/faults/epoch-close-child.ts DATABASE_URL EPOCH EPOCH_SECONDS STAGE
 * Prints `reached STAGE` on stdout when it freezes, `closed ROOT` if it was allowed to finish.
 */
import { openDatabase } from "../../apps/server/src/db/database.js";
import { type CloseStage, closeEpoch } from "../../apps/server/src/rewards/epoch-close.js";

const [databaseUrl, epoch, epochSeconds, stopAt] = process.argv.slice(2);
const database = await openDatabase({ databaseUrl, poolSize: 2 });
const closed = await closeEpoch(database.db, {
  epoch: Number(epoch),
  epochSeconds: Number(epochSeconds),
  async afterStage(stage: CloseStage) {
    if (stage !== stopAt) return;
    process.stdout.write(`reached ${stage}\n`);
    await new Promise(() => undefined);
  },
});
process.stdout.write(`closed ${closed?.root}\n`);
await database.close();
