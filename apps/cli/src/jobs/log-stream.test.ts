import type { JobLogMessage } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { LogStream, sliceUtf8 } from "./log-stream.js";

function stream(over: { limitBytes?: number; bytesPerSecond?: number; burstBytes?: number }) {
  const sent: JobLogMessage[] = [];
  const clock = { ms: 0 };
  const log = new LogStream({
    jobId: `job_${"a".repeat(26)}`,
    send: (m) => sent.push(m),
    limitBytes: over.limitBytes ?? 1_000_000,
    bytesPerSecond: over.bytesPerSecond ?? 1000,
    burstBytes: over.burstBytes ?? 1000,
    flushMs: 60_000,
    now: () => clock.ms,
  });
  return {
    log,
    sent,
    clock,
    text: (s: string) =>
      sent
        .filter((m) => m.stream === s)
        .map((m) => m.data)
        .join(""),
  };
}

describe("a job's log stream", () => {
  it("drops output over the sustained rate, says how much, and passes output again once the bucket refills", () => {
    const s = stream({});
    s.log.write("stdout", Buffer.from("x".repeat(800)));
    s.log.write("stdout", Buffer.from("y".repeat(800)));
    s.clock.ms = 1000;
    s.log.write("stdout", Buffer.from("z".repeat(500)));
    s.log.close();
    expect(s.text("stdout")).toBe(`${"x".repeat(800)}${"z".repeat(500)}`);
    expect(s.text("system")).toContain("800 bytes of output dropped (rate limit)");
  });

  it("never splits a UTF-8 character across chunks and numbers chunks in order", () => {
    const s = stream({ bytesPerSecond: 1e9, burstBytes: 1e9 });
    const text = "é".repeat(20_000);
    s.log.write("stdout", Buffer.from(text));
    s.log.close();
    expect(s.text("stdout")).toBe(text);
    expect(s.sent.map((m) => m.seq)).toEqual(s.sent.map((_, i) => i));
    expect(sliceUtf8("aé", 2)).toBe("a");
  });

  it("reassembles a character split across two writes", () => {
    const s = stream({});
    const bytes = Buffer.from("ü");
    s.log.write("stdout", bytes.subarray(0, 1));
    s.log.write("stdout", bytes.subarray(1));
    s.log.close();
    expect(s.text("stdout")).toBe("ü");
  });
});
