import { describe, expect, it } from "vitest";
import { type DecidedCheck, explainCheck } from "./verdict-explanation.js";

const base: DecidedCheck = {
  decidedAt: new Date("2026-12-06T10:00:00Z"),
  outcome: "fail",
  reason: null,
  profile: "nvidia-h100-sxm",
  gpuCount: 1,
  expectedMs: 2000,
  deadlineMs: 2550,
  rttMs: 50,
  commitLatencyMs: null,
  rowsChecked: 0,
  revealRows: 32,
  vramBytes: null,
};

describe("explaining a verdict to the owner", () => {
  it("gives a pass no reason", () => {
    expect(explainCheck({ ...base, outcome: "pass" })).toEqual({
      at: "2026-12-06T10:00:00.000Z",
      outcome: "pass",
      reason: null,
    });
  });

  it("says how late a late answer was against the claimed GPU's time and the deadline, and what to check", () => {
    const { reason } = explainCheck({
      ...base,
      outcome: "timeout",
      reason: "commit_late",
      commitLatencyMs: 3120,
    });
    expect(reason!.code).toBe("commit_late");
    expect(reason!.detail).toContain("answered after 3,120 ms");
    expect(reason!.detail).toContain("A correct NVIDIA H100 SXM 80GB needs about 2,000 ms");
    expect(reason!.detail).toContain("the deadline was 2,550 ms");
    expect(reason!.detail).toContain("profile and GPU count match");
  });

  it("tells the owner a late answer during a stall of the machine does not count as a failure", () => {
    const { reason } = explainCheck({
      ...base,
      outcome: "timeout",
      reason: "host_stall",
      commitLatencyMs: 3600,
    });
    expect(reason!.code).toBe("host_stall");
    expect(reason!.detail).toContain("answered after 3,600 ms");
    expect(reason!.detail).toContain("does not count as a failed check");
  });

  it("says when the rows came in time but the memory check's roots did not", () => {
    const { reason } = explainCheck({ ...base, outcome: "timeout", reason: "commit_late", memoryLate: true });
    expect(reason!.code).toBe("commit_late");
    expect(reason!.detail).toContain("committed its result in time, but the roots of the memory check");
    expect(reason!.detail).toContain("80 GB per GPU");
    expect(reason!.detail).not.toContain("memory roots late");
  });

  it("names the buffer a memory check asked for and the claimed memory when a card is short of it", () => {
    const { reason } = explainCheck({
      ...base,
      reason: "vram_short",
      rowsChecked: 3,
      vramBytes: 80 * 2 ** 30,
    });
    expect(reason!.code).toBe("vram_short");
    expect(reason!.detail).toContain("80.0 GiB buffer");
    expect(reason!.detail).toContain("3 of the checked reads were right");
    expect(reason!.detail).toContain("profile that matches its memory");
  });

  it("calls a timeout without a reason no answer, and keeps an unknown code stable", () => {
    expect(explainCheck({ ...base, outcome: "timeout" }).reason!.code).toBe("no_answer");
    const unknown = explainCheck({ ...base, reason: "something_new" }).reason!;
    expect(unknown.code).toBe("something_new");
    expect(unknown.detail).toContain("(something_new)");
  });
});
