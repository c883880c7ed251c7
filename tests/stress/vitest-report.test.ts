import { describe, expect, it } from "vitest";
import { failuresOf } from "./vitest-report.js";

describe("reading vitest's JSON report", () => {
  it("lists each failed test with its file relative to the root and the first line of its message", () => {
    const failed = failuresOf(
      {
        success: false,
        testResults: [
          {
            name: "/repo/tests/market/a.test.ts",
            status: "failed",
            assertionResults: [
              { fullName: "renting settles", status: "passed" },
              {
                fullName: "renting meters",
                status: "failed",
                failureMessages: ["\nAssertionError: expected 0 to be 1\n    at a.test.ts:3"],
              },
              { fullName: "renting skips", status: "skipped" },
            ],
          },
          { name: "/repo/apps/b.test.ts", status: "passed", assertionResults: [] },
        ],
      },
      "/repo",
    );
    expect(failed).toEqual([
      {
        file: "tests/market/a.test.ts",
        test: "renting meters",
        message: "AssertionError: expected 0 to be 1",
      },
    ]);
  });

  it("counts a file that failed outside its tests, as a failing hook or import does", () => {
    const failed = failuresOf(
      {
        testResults: [
          {
            name: "/repo/tests/x.test.ts",
            status: "failed",
            message: "Hook timed out in 60000ms",
            assertionResults: [{ fullName: "x works", status: "skipped" }],
          },
        ],
      },
      "/repo",
    );
    expect(failed).toEqual([
      { file: "tests/x.test.ts", test: "(the file itself)", message: "Hook timed out in 60000ms" },
    ]);
  });

  it("finds nothing in a green report", () => {
    expect(
      failuresOf({ success: true, testResults: [{ name: "/r/a.test.ts", status: "passed" }] }, "/r"),
    ).toEqual([]);
  });
});
