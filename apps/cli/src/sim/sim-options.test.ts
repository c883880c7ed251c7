import { describe, expect, it } from "vitest";
import { UsageError } from "../command.js";
import { parseSimOptions } from "./sim-options.js";

const base = ["--server", "http://127.0.0.1:8080/", "--api-key", "ign_key", "--devices", "10"];

describe("ignis sim options", () => {
  it("reads the contract's flags with their defaults", () => {
    expect(parseSimOptions(base)).toEqual({
      servers: ["http://127.0.0.1:8080"],
      apiKey: "ign_key",
      devices: 10,
      counterfeit: 0,
      overclaim: 50,
      lie: "speed",
      profile: "sim-a100",
      durationSeconds: undefined,
      churnPerMinute: 0,
      heartbeatSeconds: undefined,
      processes: 1,
      stateDir: undefined,
      enrollConcurrency: 8,
      json: false,
    });
  });

  it("takes several servers, counterfeits, churn, a heartbeat and processes", () => {
    const options = parseSimOptions([
      ...base,
      "--server",
      "http://a:1,http://b:2",
      "--counterfeit",
      "2",
      "--lie",
      "vram",
      "--profile",
      "sim-h100",
      "--duration",
      "30",
      "--churn",
      "0.1",
      "--heartbeat",
      "5",
      "--processes",
      "4",
      "--json",
    ]);
    expect(options).toMatchObject({
      servers: ["http://a:1", "http://b:2"],
      counterfeit: 2,
      lie: "vram",
      profile: "sim-h100",
      durationSeconds: 30,
      churnPerMinute: 0.1,
      heartbeatSeconds: 5,
      processes: 4,
      json: true,
    });
  });

  it("makes the counterfeits a given factor slower than they claim, from 1.1× up", () => {
    expect(parseSimOptions([...base, "--counterfeit", "3", "--overclaim", "1.5"]).overclaim).toBe(1.5);
    expect(() => parseSimOptions([...base, "--overclaim", "1"])).toThrow(
      "--overclaim must be a number ≥ 1.1",
    );
  });

  it("never runs more processes than devices", () => {
    expect(parseSimOptions([...base.slice(0, 4), "--devices", "2", "--processes", "8"]).processes).toBe(2);
  });

  it.each([
    [["--api-key", "k", "--devices", "1"], /--server is required/],
    [["--server", "http://a", "--devices", "1"], /--api-key is required/],
    [["--server", "ftp://a", "--api-key", "k", "--devices", "1"], /not an http/],
    [[...base, "--counterfeit", "11"], /cannot exceed/],
    [[...base, "--profile", "nvidia-h100-sxm"], /not a simulated profile/],
    [[...base, "--churn", "2"], /at most 1/],
    [[...base, "--lie", "model"], /--lie model: expected speed or vram/],
    [[...base, "--devices", "0"], /--devices must be a number ≥ 1/],
    [[...base, "--bogus"], /Unknown option/],
  ])("refuses %j with a usage error", (argv, message) => {
    expect(() => parseSimOptions(argv)).toThrow(UsageError);
    expect(() => parseSimOptions(argv)).toThrow(message);
  });
});
