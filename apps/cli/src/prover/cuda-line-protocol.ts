import { z } from "zod";

/**
 * The JSON-lines protocol between the CUDA wrapper and apps/cli/native/cuda/build/pogpu (`pogpu serve`):
 * one request per stdin line, one response per stdout line, in order. Requests:
 *   {"op":"info"}
 *   {"op":"commit","challengeId","seed","bSeed","n","inner","batch"}
 *   {"op":"reveal","challengeId","rows":[{"matrix","row"}]}
 * Every response carries `ok`; failures are {"ok":false,"op","error"}.
 */

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

/** Response to `info`: the GPU the binary drives. */
export const cudaInfoResponse = z.object({
  ok: z.literal(true),
  op: z.literal("info"),
  device: z.string(),
  computeCapability: z.string(),
  memoryBytes: z.number(),
  gpuCount: z.int().min(0),
  precision: z.enum(["int8", "fp16"]),
});
/** A parsed `info` response. */
export type CudaInfoResponse = z.infer<typeof cudaInfoResponse>;

/** Response to `commit`: the Merkle root and the GPU-side elapsed time. */
export const cudaCommitResponse = z.object({
  ok: z.literal(true),
  op: z.literal("commit"),
  challengeId: z.string(),
  root: hex32,
  elapsedMs: z.number().min(0),
});

/** Response to `reveal`: the rows with their proofs, in request order. */
export const cudaRevealResponse = z.object({
  ok: z.literal(true),
  op: z.literal("reveal"),
  challengeId: z.string(),
  rows: z.array(z.object({ matrix: z.int(), row: z.int(), values: z.array(z.int()), proof: z.array(hex32) })),
});

/** Any failure. */
export const cudaErrorResponse = z.object({ ok: z.literal(false), op: z.string(), error: z.string() });
