import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { currentRelease, pruneReleases, recordRunningRelease, switchCurrent } from "./release-install.js";

describe("installed worker releases", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  const install = (root: string, version: string) =>
    recordRunningRelease(root, version, { node: "/usr/bin/node", script: `/opt/ignis-${version}.js` });

  it("keeps the current release and the previous one, and removes every older one", () => {
    const root = mkdtempSync(join(tmpdir(), "ignis-releases-"));
    roots.push(root);
    for (const version of ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]) install(root, version);
    // An install in progress (or one a crash left) is not a release and is not touched.
    mkdirSync(join(root, "versions", ".incoming-123-456"));
    writeFileSync(join(root, "versions", "README"), "not a release\n");
    switchCurrent(root, "0.4.0");

    expect(pruneReleases(root, ["0.4.0", "0.3.0"])).toEqual(["0.1.0", "0.2.0"]);
    expect(readdirSync(join(root, "versions")).sort()).toEqual([
      ".incoming-123-456",
      "0.3.0",
      "0.4.0",
      "README",
    ]);
    expect(currentRelease(root)).toBe("0.4.0");
    // The kept previous release can still be switched back to (a rollback's target).
    switchCurrent(root, "0.3.0");
    expect(currentRelease(root)).toBe("0.3.0");
    expect(pruneReleases(root, ["0.3.0", "0.4.0"])).toEqual([]);
  });

  it("removes nothing before the first install", () => {
    const root = mkdtempSync(join(tmpdir(), "ignis-releases-"));
    roots.push(root);
    expect(pruneReleases(root, ["0.1.0"])).toEqual([]);
    expect(existsSync(join(root, "versions"))).toBe(false);
  });
});
