import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generateDeviceKey } from "../worker/device-key.js";
import { ensureStateDir, keyPath, writeDeviceKey, writeDeviceState } from "../worker/worker-state.js";
import { keyCheck } from "./key-check.js";

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(withKey: boolean): string {
  const root = mkdtempSync(join(tmpdir(), "ignis-key-check-"));
  made.push(root);
  const dir = join(root, "state");
  ensureStateDir(dir);
  writeDeviceState(dir, {
    server: "http://127.0.0.1:1",
    deviceId: "dev_1",
    keyId: "key_1",
    publicKey: "x",
    profile: "sim-a100",
    enrolledAt: "2026-12-06T00:00:00.000Z",
  });
  if (withKey) writeDeviceKey(dir, generateDeviceKey());
  return dir;
}

describe.skipIf(process.platform === "win32")("the key check", () => {
  it("passes a private key of an enrolled device", () => {
    expect(keyCheck(stateDir(true))).toMatchObject({
      status: "pass",
      detail: expect.stringContaining("dev_1"),
    });
  });

  it("fails a key others can read, with the chmod that fixes it", () => {
    const dir = stateDir(true);
    chmodSync(keyPath(dir), 0o644);
    expect(keyCheck(dir)).toEqual({
      id: "key",
      status: "fail",
      detail: `the device key ${keyPath(dir)} is readable by others (mode 644)`,
      fix: `make it private: chmod 600 ${keyPath(dir)}`,
    });
  });

  it("fails a readable key being rotated in", () => {
    const dir = stateDir(true);
    writeFileSync(join(dir, "device-key.next.pem"), "x", { mode: 0o604 });
    chmodSync(join(dir, "device-key.next.pem"), 0o604);
    expect(keyCheck(dir).fix).toBe(`make it private: chmod 600 ${join(dir, "device-key.next.pem")}`);
  });

  it("fails a state folder others may write, where the key could be swapped", () => {
    const dir = stateDir(true);
    chmodSync(dir, 0o777);
    expect(keyCheck(dir)).toMatchObject({ status: "fail", fix: `make it private: chmod 700 ${dir}` });
  });

  it("fails an enrolled device whose key file is gone or is not a key", () => {
    const dir = stateDir(false);
    expect(keyCheck(dir)).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("has no key file"),
    });
    writeFileSync(keyPath(dir), "not a key", { mode: 0o600 });
    expect(keyCheck(dir)).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("cannot be read"),
    });
  });

  it("only warns on a machine not enrolled yet, naming the enroll command", () => {
    const root = mkdtempSync(join(tmpdir(), "ignis-key-check-"));
    made.push(root);
    expect(keyCheck(join(root, "none"))).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("ignis worker enroll"),
    });
  });
});
