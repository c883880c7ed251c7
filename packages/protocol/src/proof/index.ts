/** Proof of GPU: generator, commitment, Freivalds check, sizing and wire messages (docs/proof-of-gpu.md). */
export * from "./challenge-sizing.js";
export * from "./freivalds.js";
export * from "./generator.js";
export * from "./hex.js";
export * from "./merkle.js";
export * from "./messages.js";
export * from "./reference-product.js";
export * from "./row-bytes.js";
export * from "./sha256.js";
export * from "./test-vectors.js";
export * from "./vram.js";
