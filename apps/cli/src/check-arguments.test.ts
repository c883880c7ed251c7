import { describe, expect, it } from "vitest";
import { joinDashValues } from "./check-arguments.js";
import type { Options } from "./command.js";

const options: Options = {
  signature: { type: "string" },
  state: { type: "string" },
  json: { type: "boolean" },
};

describe("joinDashValues", () => {
  it("keeps a base64url value that starts with '-' with its flag", () => {
    expect(joinDashValues(options, ["--signature", "-Zk3vQ_x9", "--json"])).toEqual([
      "--signature=-Zk3vQ_x9",
      "--json",
    ]);
  });

  it("leaves flags, booleans, stdin and a job's command after -- alone", () => {
    expect(joinDashValues(options, ["--state", "--jsno"])).toEqual(["--state", "--jsno"]);
    expect(joinDashValues(options, ["--json", "-x1"])).toEqual(["--json", "-x1"]);
    expect(joinDashValues(options, ["--state", "-"])).toEqual(["--state", "-"]);
    expect(joinDashValues(options, ["--", "--state", "-x1"])).toEqual(["--", "--state", "-x1"]);
  });
});
