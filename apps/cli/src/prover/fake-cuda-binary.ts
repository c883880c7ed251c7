/**
 * Test double of `pogpu serve`: the same JSON-lines protocol, answered by the CPU prover, so the CUDA wrapper
 * is exercised on machines without a GPU. Run as `node --import tsx fake-cuda-binary.ts`.
 */
import { createInterface } from "node:readline";
import { createCpuProver } from "./cpu-prover.js";

const prover = createCpuProver();
const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();

rl.on("line", (line) => {
  queue = queue.then(async () => {
    let op = "?";
    try {
      const m = JSON.parse(line);
      op = m.op;
      if (op === "info") {
        reply({
          ok: true,
          op,
          device: "fake GPU (CPU prover)",
          computeCapability: "0.0",
          memoryBytes: 0,
          gpuCount: 1,
          precision: "int8",
        });
      } else if (op === "commit") {
        const commit = await prover.commit({ type: "proof.challenge", deadlineMs: 600_000, ...m });
        reply({
          ok: true,
          op,
          challengeId: commit.challengeId,
          root: commit.root,
          elapsedMs: commit.elapsedMs,
        });
      } else if (op === "reveal") {
        const reveal = await prover.reveal({
          type: "proof.reveal-request",
          challengeId: m.challengeId,
          rows: m.rows,
        });
        reply({ ok: true, op, challengeId: reveal.challengeId, rows: reveal.rows });
      } else {
        throw new Error("unknown op");
      }
    } catch (err) {
      reply({ ok: false, op, error: (err as Error).message });
    }
  });
});

function reply(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}
