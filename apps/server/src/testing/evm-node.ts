import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePrivateKey } from "viem/accounts";
import { freePort } from "./test-server.js";

const CONFIG = fileURLToPath(new URL("./hardhat.config.js", import.meta.url));

/** A local EVM node (Hardhat's, from npm) serving JSON-RPC on 127.0.0.1, with freshly generated funded keys. */
export interface EvmNode {
  url: string;
  port: number;
  /** Private keys of the funded accounts, generated for this node alone. */
  keys: `0x${string}`[];
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` in a child process and resolves once it says it serves JSON-RPC (bounded by
 * `timeoutMs`, which only catches a hang). Each account gets 100 ETH; keys are throwaway, made here.
 */
export async function startEvmNode(
  options: { accounts?: number; timeoutMs?: number } = {},
): Promise<EvmNode> {
  const keys = Array.from({ length: options.accounts ?? 2 }, () => generatePrivateKey());
  const scratch = mkdtempSync(join(tmpdir(), "ignis-evm-"));
  const port = await freePort();
  const hardhat = join(
    dirname(createRequire(import.meta.url).resolve("hardhat/package.json")),
    "dist/src/cli.js",
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [hardhat, "node", "--config", CONFIG, "--hostname", "127.0.0.1", "--port", String(port)],
    {
      env: {
        ...process.env,
        IGNIS_TEST_EVM_KEYS: keys.join(","),
        IGNIS_TEST_EVM_DIR: scratch,
        HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`hardhat node did not start within ${options.timeoutMs ?? 120_000} ms:\n${output}`));
    }, options.timeoutMs ?? 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Started HTTP")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited (${code}) before it started:\n${output}`));
    });
  });
  // Keep draining its output so a chatty node never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    keys,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
