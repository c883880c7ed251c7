import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedWorker, packWorker } from "../../apps/cli/scripts/pack-worker.js";
import { generateReleaseKey, readReleaseKey } from "../../apps/cli/scripts/release-key.js";
import { currentRelease } from "../../apps/cli/src/worker/update/release-install.js";
import { verifyReleasePackage } from "../../apps/cli/src/worker/update/release-verify.js";
import { buildPackage, IGNIS_BIN, testReleaseKey } from "../../apps/server/src/upgrades/release-fixture.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `ignis worker update`; resolves with its exit code and output whatever the code. */
async function update(bin: string[], args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [...bin, "worker", "update", ...args]);
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

// The release process as an operator runs it: a key made outside the repository, a pack that pins and signs.
describe("the release key (npm run release:keygen, then IGNIS_RELEASE_KEY_FILE=... npm run pack:worker)", () => {
  let work: string;
  let keyFile: string;
  let publicKey: string;
  let packed: PackedWorker;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "ignis-release-"));
    keyFile = join(work, "release-key.pem");
    publicKey = generateReleaseKey(keyFile);
    packed = await packWorker(join(work, "out"), { releaseKeyFile: keyFile });
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("writes the private half with mode 0600, never over a file, never inside a repository", () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readReleaseKey(keyFile).publicKey).toBe(publicKey);
    expect(() => generateReleaseKey(keyFile)).toThrow(/EEXIST/);
    const inRepo = join(REPO_ROOT, "apps", "release-key.pem");
    expect(() => generateReleaseKey(inRepo)).toThrow(/inside the git work tree/);
    expect(existsSync(inRepo)).toBe(false);
  });

  it("pins the key's public half in the packed worker and signs its self-update package with it", () => {
    expect(packed.pinnedReleaseKey).toBe(publicKey);
    const lib = join(packed.packageDir, "lib");
    const bundle = readdirSync(lib)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(join(lib, f), "utf8"))
      .join("\n");
    expect(bundle).toContain(JSON.stringify(publicKey));
    const release = packed.release!;
    expect(readFileSync(release.signatureFile, "utf8").trim()).toBe(release.signature);
    expect(
      verifyReleasePackage(
        readFileSync(release.file),
        { version: packed.version, signature: release.signature },
        publicKey,
      ),
    ).toBe(release.sha256);
  });

  it("the packed worker installs a release signed by its pinned key and refuses one signed by another key", async () => {
    const state = join(work, "state-packed");
    const pkg = buildPackage(work, "9.0.0", "exec sleep 1");
    const packedBin = [join(packed.packageDir, "bin", "ignis.js")];
    const common = ["--state", state, "--version", pkg.version, "--package", pkg.file];

    const forged = await update(packedBin, [
      ...common,
      `--signature=${testReleaseKey().sign(pkg.version, pkg.sha256)}`,
    ]);
    expect(forged.code, forged.out).toBe(5);
    expect(forged.out).toContain("refused (bad_signature)");
    expect(forged.out).toContain(publicKey);
    expect(existsSync(join(state, "releases", "versions", pkg.version))).toBe(false);

    const signed = await update(packedBin, [
      ...common,
      `--signature=${readReleaseKey(keyFile).sign(pkg.version, pkg.sha256)}`,
    ]);
    expect(signed.code, signed.out).toBe(0);
    expect(currentRelease(join(state, "releases"))).toBe(pkg.version);
  }, 60_000);

  it("a development build pins no key and installs nothing until its owner names one", async () => {
    const state = join(work, "state-source");
    const pkg = buildPackage(work, "9.1.0", "exec sleep 1");
    const common = ["--state", state, "--version", pkg.version, "--package", pkg.file];
    const signature = readReleaseKey(keyFile).sign(pkg.version, pkg.sha256);

    const refused = await update([IGNIS_BIN], [...common, `--signature=${signature}`]);
    expect(refused.code, refused.out).toBe(5);
    expect(refused.out).toContain("refused (no_release_key)");
    expect(existsSync(join(state, "releases"))).toBe(false);

    const named = await update(
      [IGNIS_BIN],
      [...common, `--signature=${signature}`, "--release-key", publicKey],
    );
    expect(named.code, named.out).toBe(0);
    expect(currentRelease(join(state, "releases"))).toBe(pkg.version);
  }, 60_000);
});
