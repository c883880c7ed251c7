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
});
