import { describe, expect, it } from "vitest";
import { misspeltSettings } from "./config-typos.js";

describe("misspelt settings", () => {
  it("names a variable one or two letters away from a setting, with the setting it resembles", () => {
    expect(
      misspeltSettings({
        IGNIS_NAT_URL: "nats://x",
        IGNIS_EPOCH_SECOND: "60",
        IGNIS_PORT: "8080",
        PATH: "/bin",
      }),
    ).toEqual([
      { key: "IGNIS_NAT_URL", didYouMean: "IGNIS_NATS_URL" },
      { key: "IGNIS_EPOCH_SECOND", didYouMean: "IGNIS_EPOCH_SECONDS" },
    ]);
  });

  it("leaves the CLI's and jobs' own IGNIS_ variables alone", () => {
    expect(
      misspeltSettings({
        IGNIS_API_KEY: "ign_x",
        IGNIS_SERVER: "https://x",
        IGNIS_RANK: "0",
        IGNIS_HEAD_ADDR: "h:1",
      }),
    ).toEqual([]);
  });
});
