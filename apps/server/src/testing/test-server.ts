import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config.js";
import type { OpenDatabase } from "../db/database.js";
import { ADMIN_KEY_FILE } from "../identity/bootstrap-admin.js";
import { createServer, type IgnisServer, type ServerOverrides } from "../server.js";
import type { TestIssuer } from "./test-issuer.js";

/** A server started for a test, with its bootstrap admin key and a way to tear everything down. */
export interface TestServer {
  server: IgnisServer;
  url: string;
  adminKey: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a real server on an ephemeral port over the given database. Rate limits and automatic security
 * containment are off unless asked for (`IGNIS_RATE_LIMITS=on`, `IGNIS_SECURITY_CONTAINMENT=on`), so that
 * suites exercising many requests measure behaviour, not budgets; alerts are still raised.
 */
export async function startTestServer(options: {
  database: OpenDatabase;
  issuer?: TestIssuer;
  env?: Record<string, string>;
  listen?: boolean;
  /** Extra composition seams (a tuned security monitor, for example). */
  overrides?: Omit<ServerOverrides, "database" | "verifier">;
}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "ignis-test-"));
  const port = await freePort();
  const env: Record<string, string> = {
    IGNIS_PORT: String(port),
    IGNIS_PUBLIC_URL: `http://127.0.0.1:${port}`,
    IGNIS_HOST: "127.0.0.1",
    IGNIS_DATA_DIR: dataDir,
    IGNIS_LOG_LEVEL: "silent",
    IGNIS_RATE_LIMITS: "off",
    IGNIS_SECURITY_CONTAINMENT: "off",
    ...(options.issuer
      ? { IGNIS_OIDC_ISSUER: options.issuer.issuer, IGNIS_OIDC_AUDIENCE: options.issuer.audience }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const server = await createServer(config, {
    ...options.overrides,
    database: options.database,
    ...(options.issuer ? { verifier: options.issuer.verifier } : {}),
  });
  let url = "";
  if (options.listen !== false) {
    await server.listen();
    url = `http://127.0.0.1:${port}`;
  }
  const keyFile = join(dataDir, ADMIN_KEY_FILE);
  // A second server over an already bootstrapped database (a replica) has no key file of its own.
  const adminKey = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  return {
    server,
    url,
    adminKey,
    dataDir,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago, so the public URL is known before the server starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
