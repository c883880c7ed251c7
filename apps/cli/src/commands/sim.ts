import type { Command } from "../command.js";
import { runSim } from "../sim/run-sim.js";
import { parseSimOptions, SIM_FLAGS, SIM_USAGE } from "../sim/sim-options.js";
import { formatSimSummary } from "../sim/sim-summary.js";

/** `ignis sim`: enrolls and runs N simulated devices (M counterfeit) against a server, then prints a summary. */
export const command: Command = {
  path: ["sim"],
  summary: "run N simulated devices (some counterfeit) against a server",
  usage: SIM_USAGE,
  options: SIM_FLAGS,
  actions: [],
  async run(argv) {
    const options = parseSimOptions(argv);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      const summary = await runSim(options, abort.signal);
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatSimSummary(summary));
      // Non-zero unless the server trusts every honest device and caught every counterfeit.
      return summary.verdict?.ok ? 0 : 1;
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  },
};
