import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { checkJobSpec, checkRentalShape, rendezvousEnv } from "./job-spec.js";

const limits = { maxDevices: 4, maxHours: 10, archiveMaxBytes: 1024 };

describe("job specs", () => {
  it("keeps the customer's command, args, env and image, and measures the archive", () => {
    const archive = gzipSync(Buffer.from("tar bytes")).toString("base64");
    const checked = checkJobSpec(
      { command: "python", args: ["train.py"], env: { LR: "0.1" }, image: "pytorch/pytorch:2.5", archive },
      limits,
    );
    expect(checked.spec).toEqual({
      command: "python",
      args: ["train.py"],
      env: { LR: "0.1" },
      image: "pytorch/pytorch:2.5",
    });
    expect(checked.archiveBytes).toBe(Buffer.from(archive, "base64").length);
  });

  it("refuses env names that are not POSIX-style or that claim the IGNIS_ namespace", () => {
    for (const name of ["lower", "1ABC", "A-B", "A B", ""]) {
      expect(() => checkJobSpec({ command: "x", env: { [name]: "v" } }, limits), name).toThrow(
        expect.objectContaining({ code: "invalid_env_name" }),
      );
    }
    for (const name of [
      "IGNIS_RANK",
      "IGNIS_HEAD_ADDR",
      "IGNIS_ANYTHING",
      "RANK",
      "WORLD_SIZE",
      "LOCAL_RANK",
      "MASTER_ADDR",
      "MASTER_PORT",
    ]) {
      expect(() => checkJobSpec({ command: "x", env: { [name]: "v" } }, limits), name).toThrow(
        expect.objectContaining({ code: "reserved_env_name" }),
      );
    }
    expect(checkJobSpec({ command: "x", env: { _OK: "1", A1_B: "2" } }, limits).spec.env).toEqual({
      _OK: "1",
      A1_B: "2",
    });
  });

  it("refuses an image that could be read as an engine flag or holds odd characters", () => {
    for (const image of [
      "--privileged",
      "-v=/:/host",
      "--volume=/:/host",
      "python 3",
      "a;rm -rf /",
      "Ubuntu",
      "",
      "x".repeat(300),
    ]) {
      expect(() => checkJobSpec({ command: "x", image }, limits), image).toThrow(
        expect.objectContaining({ code: "invalid_image" }),
      );
    }
    expect(() => checkJobSpec({ command: "x", image: 42 }, limits)).toThrow(
      expect.objectContaining({ code: "invalid_image" }),
    );
    for (const image of [
      "python:3.12",
      "ghcr.io/org/app:v1",
      "localhost:5000/team/img",
      `busybox@sha256:${"a".repeat(64)}`,
    ]) {
      expect(checkJobSpec({ command: "x", image }, limits).spec.image).toBe(image);
    }
  });

  it("refuses args that are not an array of strings", () => {
    for (const args of ["--privileged", [1, 2], [["nested"]], { 0: "a" }, null]) {
      expect(() => checkJobSpec({ command: "x", args }, limits), JSON.stringify(args)).toThrow(
        expect.objectContaining({ code: "invalid_job_args" }),
      );
    }
  });

  it("refuses env values of more than one line: they reach the engine through an env file", () => {
    for (const value of ["a\nb", "a\rb", "a\u0000b"]) {
      expect(() => checkJobSpec({ command: "x", env: { SECRET: value } }, limits)).toThrow(
        expect.objectContaining({ code: "invalid_env_value" }),
      );
    }
    expect(() => checkJobSpec({ command: "x", env: { N: 1 } }, limits)).toThrow(
      expect.objectContaining({ code: "invalid_env_value" }),
    );
  });

  it("refuses a spec asking for devices, privileges, mounts or another network, and any other unknown field", () => {
    for (const key of ["privileged", "devices", "capAdd", "volumes", "network", "user", "securityOpt"]) {
      expect(() => checkJobSpec({ command: "x", [key]: true }, limits), key).toThrow(
        expect.objectContaining({ code: "job_privileges_refused" }),
      );
    }
    expect(() => checkJobSpec({ command: "x", colour: "blue" }, limits)).toThrow(
      expect.objectContaining({ code: "unknown_field" }),
    );
  });

  it("refuses archives over the cap, that are not base64, or that are not gzip", () => {
    const big = gzipSync(Buffer.alloc(0)).toString("base64") + "A".repeat(2000);
    expect(() => checkJobSpec({ command: "x", archive: big }, limits)).toThrow(
      expect.objectContaining({ code: "job_spec_too_large" }),
    );
    expect(() => checkJobSpec({ command: "x", archive: "not base64!" }, limits)).toThrow(
      expect.objectContaining({ code: "validation_failed" }),
    );
    expect(() =>
      checkJobSpec({ command: "x", archive: Buffer.from("plain").toString("base64") }, limits),
    ).toThrow(expect.objectContaining({ code: "validation_failed" }));
  });

  it("bounds the device count and the rental length", () => {
    expect(() => checkRentalShape(0, 1, limits)).toThrow(expect.objectContaining({ code: "invalid_count" }));
    expect(() => checkRentalShape(5, 1, limits)).toThrow(expect.objectContaining({ code: "invalid_count" }));
    expect(() => checkRentalShape(1.5, 1, limits)).toThrow(
      expect.objectContaining({ code: "invalid_count" }),
    );
    expect(() => checkRentalShape(1, 11, limits)).toThrow(expect.objectContaining({ code: "invalid_hours" }));
    expect(() => checkRentalShape(4, 10, limits)).not.toThrow();
  });

  it("gives every rank the head's address and its place in the world", () => {
    expect(
      rendezvousEnv({ clusterId: "cls_x", rank: 2, worldSize: 3, headHost: "10.0.0.5", headPort: 23456 }),
    ).toEqual({
      IGNIS_CLUSTER_ID: "cls_x",
      IGNIS_RANK: "2",
      IGNIS_WORLD_SIZE: "3",
      IGNIS_HEAD_ADDR: "10.0.0.5:23456",
      IGNIS_HEAD_HOST: "10.0.0.5",
      IGNIS_HEAD_PORT: "23456",
      RANK: "2",
      WORLD_SIZE: "3",
      LOCAL_RANK: "0",
      MASTER_ADDR: "10.0.0.5",
      MASTER_PORT: "23456",
    });
  });

  it("brackets an IPv6 head in IGNIS_HEAD_ADDR so the port still follows the last colon", () => {
    const env = rendezvousEnv({
      clusterId: "cls_x",
      rank: 0,
      worldSize: 2,
      headHost: "2001:db8::7",
      headPort: 20001,
    });
    expect(env.IGNIS_HEAD_ADDR).toBe("[2001:db8::7]:20001");
    expect(env.IGNIS_HEAD_HOST).toBe("2001:db8::7");
  });
});
