import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("gives the embedded defaults of the contract when the environment is empty", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      dataDir: ".ignis",
      epochSeconds: 3600,
      heartbeatSeconds: 30,
      databaseUrl: undefined,
      oidc: { embedded: true, audience: "ignis-api" },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("lets --port and --data override the environment", () => {
    const config = loadConfig({ IGNIS_PORT: "9000", IGNIS_DATA_DIR: "/env" }, [
      "--port",
      "9100",
      "--data",
      "/flag",
    ]);
    expect(config.port).toBe(9100);
    expect(config.dataDir).toBe("/flag");
  });

  it("lists every bad key at once", () => {
    let error: unknown;
    try {
      loadConfig({ IGNIS_PORT: "seventy", DATABASE_URL: "mysql://x", IGNIS_EPOCH_SECONDS: "-5" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain("IGNIS_PORT");
    expect(problems).toContain("DATABASE_URL");
    expect(problems).toContain("IGNIS_EPOCH_SECONDS");
  });

  it("leaves staking off by default and refuses stakes, slashes and unbonding delays that cannot work", () => {
    expect(loadConfig({}).stakes).toEqual({
      perGpu: 0n,
      slashBps: 1000,
      unbondSeconds: 7 * 86_400,
      pendingSeconds: 0,
    });
    const on = loadConfig({
      IGNIS_STAKE_PER_GPU: "5000000",
      IGNIS_SLASH_BPS: "2500",
      IGNIS_UNBOND_SECONDS: "7200",
    });
    expect(on.stakes).toEqual({ perGpu: 5_000_000n, slashBps: 2500, unbondSeconds: 7200, pendingSeconds: 0 });
    for (const env of [
      { IGNIS_STAKE_PER_GPU: "-1" },
      { IGNIS_STAKE_PER_GPU: "1.5" },
      { IGNIS_SLASH_BPS: "10001" },
      { IGNIS_UNBOND_SECONDS: "-1" },
      // Unbonding faster than an epoch closes would let a stake leave before a proof could slash it.
      { IGNIS_STAKE_PER_GPU: "1", IGNIS_UNBOND_SECONDS: "60" },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    }
  });

  it("requires an audience with an external issuer", () => {
    expect(() => loadConfig({ IGNIS_OIDC_ISSUER: "https://idp.example.com/" })).toThrow(
      /IGNIS_OIDC_AUDIENCE/,
    );
    const config = loadConfig({
      IGNIS_OIDC_ISSUER: "https://idp.example.com/",
      IGNIS_OIDC_AUDIENCE: "ignis",
    });
    expect(config.oidc).toMatchObject({
      embedded: false,
      issuer: "https://idp.example.com/",
      audience: "ignis",
    });
  });

  it("refuses a heartbeat longer than an uptime slot, naming both settings and what would work", () => {
    // The old README recipe: 60 s epochs have 1 s slots, so 2 s heartbeats reach at most 30 of 60 slots.
    let error: unknown;
    try {
      loadConfig({ IGNIS_EPOCH_SECONDS: "60", IGNIS_HEARTBEAT_SECONDS: "2" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("IGNIS_HEARTBEAT_SECONDS: 2 s is longer than one uptime slot");
    expect(message).toContain("IGNIS_EPOCH_SECONDS 60 / 60 = 1 s");
    expect(message).toContain("at most 30 of an epoch's 60 slots and never reaches the 45 needed to earn");
    expect(message).toContain("at most 1 or IGNIS_EPOCH_SECONDS to at least 120");
  });

  it("accepts the recipes that can earn: a heartbeat within one slot", () => {
    expect(loadConfig({ IGNIS_EPOCH_SECONDS: "60", IGNIS_HEARTBEAT_SECONDS: "0.5" }).heartbeatSeconds).toBe(
      0.5,
    );
    expect(loadConfig({ IGNIS_EPOCH_SECONDS: "60", IGNIS_HEARTBEAT_SECONDS: "1" }).heartbeatSeconds).toBe(1);
    expect(loadConfig({ IGNIS_EPOCH_SECONDS: "3600" }).heartbeatSeconds).toBe(30);
  });

  it("refuses the default heartbeat with short epochs instead of starting a server that pays nobody", () => {
    expect(() => loadConfig({ IGNIS_EPOCH_SECONDS: "600" })).toThrow(
      /IGNIS_HEARTBEAT_SECONDS: 30 s is longer than one uptime slot \(IGNIS_EPOCH_SECONDS 600 \/ 60 = 10 s\)/,
    );
  });

  it("refuses an uptime flush that comes after the epoch is finalized", () => {
    expect(() =>
      loadConfig({
        IGNIS_EPOCH_SECONDS: "60",
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_EPOCH_FINALIZATION_SECONDS: "2",
        IGNIS_UPTIME_FLUSH_SECONDS: "5",
      }),
    ).toThrow(/IGNIS_UPTIME_FLUSH_SECONDS: 5 s is not shorter than the epoch finalization delay/);
  });

  it("refuses a finalization delay as long as the epoch itself", () => {
    expect(() =>
      loadConfig({
        IGNIS_EPOCH_SECONDS: "60",
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_EPOCH_FINALIZATION_SECONDS: "60",
      }),
    ).toThrow(/IGNIS_EPOCH_FINALIZATION_SECONDS: 60 s is not shorter than an epoch/);
  });

  it("lists every unworkable timing at once", () => {
    try {
      loadConfig({
        IGNIS_EPOCH_SECONDS: "60",
        IGNIS_HEARTBEAT_SECONDS: "2",
        IGNIS_EPOCH_FINALIZATION_SECONDS: "90",
      });
      expect.unreachable();
    } catch (error) {
      const keys = (error as ConfigError).problems.map((p) => p.split(":")[0]);
      expect(keys).toEqual(["IGNIS_HEARTBEAT_SECONDS", "IGNIS_EPOCH_FINALIZATION_SECONDS"]);
    }
  });
});
