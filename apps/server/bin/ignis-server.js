#!/usr/bin/env node
// Runs the bundle from `npm run build:server` (plain JavaScript, loads in well under a second) while it is
// current, and the TypeScript sources through tsx otherwise, so there is no build step to forget.
// Loading the sources takes seconds on a busy machine, so a plain start first binds its port with the one module
// that node loads by itself (type stripping): it answers 503 `starting` with a Retry-After until the server is
// ready. Where node cannot strip types, the server binds the port itself once loaded.
import { pathToFileURL } from "node:url";
import { freshBundle } from "./bundle-freshness.js";

try {
  const { bindEarly } = await import("../src/http/early-listener.ts");
  await bindEarly(process.argv.slice(2), process.env);
} catch {
  // No type stripping in this node: nothing bound yet, the server does it.
}
const fresh = freshBundle();
if (fresh.bundle) {
  await import(pathToFileURL(fresh.bundle).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}
