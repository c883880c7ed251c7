/** Proof of GPU on the server: challenges, reveal selection, verification and the verification life cycle. */
export * from "./challenge.js";
export * from "./local-exchange.js";
export * from "./random-source.js";
export * from "./reveal-selection.js";
export * from "./verification-state.js";
export * from "./verifier-key.js";
export * from "./verify-reveal.js";
