import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IgnisError } from "@ignis/protocol";

/** A Nebula certificate with its private key, both PEM. */
export interface NebulaKeyPair {
  cert: string;
  key: string;
}

/** A Nebula CA with Nebula's fingerprint of its certificate. */
export interface NebulaCa extends NebulaKeyPair {
  fingerprint: string;
}

function run(binary: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new IgnisError("unavailable", "the overlay's certificates could not be made", {
            cause: new Error(`${binary} ${args[0]}: ${stderr || error.message}`),
          }),
        );
      } else resolve(stdout);
    });
  });
}

async function inScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "ignis-nebula-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Nebula's certificate tool, found on PATH or at an explicit path. */
export interface NebulaCertTool {
  /** Makes a new Ed25519 CA valid for `seconds`. */
  createCa(name: string, seconds: number): Promise<NebulaCa>;
  /** Signs a host certificate (and makes its key) for `cidr`, e.g. `10.96.5.1/12`, valid until the CA expires. */
  signHost(ca: NebulaKeyPair, name: string, cidr: string): Promise<NebulaKeyPair>;
  /** Nebula's fingerprint of a certificate. */
  fingerprint(cert: string): Promise<string>;
}

/** The nebula-cert tool at `binary` (default: `nebula-cert` on PATH). Every call works in a fresh 0700 folder. */
export function nebulaCertTool(binary = "nebula-cert"): NebulaCertTool {
  const fingerprint = (cert: string) =>
    inScratch(async (dir) => {
      await writeSecret(join(dir, "c.crt"), cert);
      const out = await run(binary, ["print", "-json", "-path", "c.crt"], dir);
      return (JSON.parse(out) as { fingerprint: string }).fingerprint;
    });
  return {
    createCa: (name, seconds) =>
      inScratch(async (dir) => {
        await run(
          binary,
          [
            "ca",
            "-name",
            name,
            "-duration",
            `${Math.ceil(seconds)}s`,
            "-out-crt",
            "ca.crt",
            "-out-key",
            "ca.key",
          ],
          dir,
        );
        const cert = await readFile(join(dir, "ca.crt"), "utf8");
        const key = await readFile(join(dir, "ca.key"), "utf8");
        const out = await run(binary, ["print", "-json", "-path", "ca.crt"], dir);
        return { cert, key, fingerprint: (JSON.parse(out) as { fingerprint: string }).fingerprint };
      }),
    signHost: (ca, name, cidr) =>
      inScratch(async (dir) => {
        await writeSecret(join(dir, "ca.crt"), ca.cert);
        await writeSecret(join(dir, "ca.key"), ca.key);
        await run(
          binary,
          [
            "sign",
            "-ca-crt",
            "ca.crt",
            "-ca-key",
            "ca.key",
            "-name",
            name,
            "-ip",
            cidr,
            "-out-crt",
            "h.crt",
            "-out-key",
            "h.key",
          ],
          dir,
        );
        return {
          cert: await readFile(join(dir, "h.crt"), "utf8"),
          key: await readFile(join(dir, "h.key"), "utf8"),
        };
      }),
    fingerprint,
  };
}

async function writeSecret(path: string, text: string): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path, text, { mode: 0o600 });
}

/** True when nebula-cert answers (the overlay can be offered). */
export function hasNebulaCert(binary = "nebula-cert"): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(binary, ["-version"], { timeout: 5000 }, (error) => resolve(!error));
  });
}
