import { describe, expect, it } from "vitest";
import { engineEnv } from "./exec.js";

describe("engineEnv", () => {
  it("passes only the engine's own settings, nothing else of the worker's environment", () => {
    const env = engineEnv({ PATH: "/usr/bin", HOME: "/home/s", IGNIS_API_KEY: "ik_secret", AWS_SECRET: "x" });
    expect(Object.keys(env).sort()).toEqual(["HOME", "PATH"]);
  });

  it("keeps the worker's PATH first and adds the sbin folders a non-root user's PATH lacks (nft lives there)", () => {
    const env = engineEnv({ PATH: "/opt/node/bin:/usr/bin:/bin:/usr/sbin" });
    expect(env.PATH).toBe("/opt/node/bin:/usr/bin:/bin:/usr/sbin:/usr/local/sbin:/sbin");
  });

  it("adds no bin folder: the engine is still the one the worker's PATH names (none, when it names none)", () => {
    expect(engineEnv({ PATH: "/opt/node/bin" }).PATH).toBe("/opt/node/bin:/usr/local/sbin:/usr/sbin:/sbin");
  });

  it("gives the system's folders when the worker has no PATH", () => {
    expect(engineEnv({}).PATH).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  });
});
