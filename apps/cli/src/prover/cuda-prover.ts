import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ProofRevealMessage } from "@ignis/protocol/proof";
import type { z } from "zod";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import {
  type CudaInfoResponse,
  cudaCommitResponse,
  cudaErrorResponse,
  cudaInfoResponse,
  cudaRevealResponse,
} from "./cuda-line-protocol.js";
import type { Prover } from "./prover.js";
import { type ProverClock, systemClock } from "./prover-clock.js";

/**
 * Where `make` in native/cuda puts the binary: apps/cli/native/cuda from the sources, or the packed CLI's own
 * native/cuda (its bundle sits one folder below the package root, scripts/pack-worker.ts).
 */
export function defaultCudaBinaryPath(): string {
  const fromSources = import.meta.url.endsWith(".ts");
  return fileURLToPath(
    new URL(fromSources ? "../../native/cuda/build/pogpu" : "../native/cuda/build/pogpu", import.meta.url),
  );
}

/** Whether an executable exists at `path`. */
export function cudaBinaryPresent(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How to start the CUDA prover process. */
export interface CudaProverOptions {
  readonly binaryPath: string;
  /** Arguments after the binary; defaults to ["serve"]. Tests point binaryPath at node and pass a script. */
  readonly args?: readonly string[];
  readonly clock?: ProverClock;
}

/** A CUDA prover process and the GPU it reported. */
export interface CudaProver extends Prover {
  readonly info: CudaInfoResponse;
}

/**
 * Spawns `pogpu serve` and talks JSON lines with it. Requests are answered in order, so a FIFO of pending
 * resolvers matches responses; if the process dies, every pending request fails.
 */
export async function createCudaProver(options: CudaProverOptions): Promise<CudaProver> {
  const clock = options.clock ?? systemClock;
  const child: ChildProcess = spawn(options.binaryPath, [...(options.args ?? ["serve"])], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const pending: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  let stderr = "";
  let exited: Error | undefined;
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const fail = (err: Error) => {
    exited = err;
    for (const p of pending.splice(0)) p.reject(err);
  };
  child.on("error", (err) =>
    fail(new IgnisError("unavailable", "CUDA prover failed to start", { cause: err })),
  );
  child.on("exit", (code) =>
    fail(new IgnisError("unavailable", `CUDA prover exited (code ${code})`, { cause: stderr })),
  );
  createInterface({ input: child.stdout! }).on("line", (line) => pending.shift()?.resolve(line));

  const request = async <T>(message: object, schema: z.ZodType<T>): Promise<T> => {
    if (exited) throw exited;
    const line = await new Promise<string>((resolve, reject) => {
      pending.push({ resolve, reject });
      child.stdin!.write(`${JSON.stringify(message)}\n`);
    });
    const parsed: unknown = JSON.parse(line);
    const failure = cudaErrorResponse.safeParse(parsed);
    if (failure.success)
      throw new IgnisError("internal", "CUDA prover refused the request", { cause: failure.data.error });
    return schema.parse(parsed);
  };

  const info = await request({ op: "info" }, cudaInfoResponse);
  return {
    name: `cuda (${info.device})`,
    info,
    async commit(challenge) {
      const started = clock.now();
      const { challengeId, seed, bSeed, n, inner, batch } = challenge;
      const response = await request(
        { op: "commit", challengeId, seed, bSeed, n, inner, batch },
        cudaCommitResponse,
      );
      return { type: "proof.commit", challengeId, root: response.root, elapsedMs: clock.now() - started };
    },
    async reveal(reveal): Promise<ProofRevealMessage> {
      const response = await request(
        { op: "reveal", challengeId: reveal.challengeId, rows: reveal.rows },
        cudaRevealResponse,
      );
      return { type: "proof.reveal", challengeId: reveal.challengeId, rows: response.rows };
    },
    async close() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}
