import { decodeServerFrame } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { type AckTarget, HeartbeatAcks } from "./heartbeat-acks.js";

/** A session that records the frames it is sent. */
const session = (): AckTarget & { frames: string[] } => {
  const frames: string[] = [];
  return {
    ackSeq: -1,
    frames,
    sendRaw(frame) {
      frames.push(frame);
      return true;
    },
  };
};

describe("heartbeat acknowledgements", () => {
  it("answers the heartbeats a session asked together with one ack of the highest seq", async () => {
    const acks = new HeartbeatAcks(() => 1234);
    const a = session();
    const b = session();
    acks.ask(a, 4);
    acks.ask(a, 8);
    acks.ask(b, 0);
    acks.ask(a, 6);
    expect(a.frames).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.frames.map((f) => decodeServerFrame(f))).toEqual([
      { type: "heartbeat.ack", seq: 8, serverTime: 1234 },
    ]);
    expect(b.frames.map((f) => decodeServerFrame(f))).toEqual([
      { type: "heartbeat.ack", seq: 0, serverTime: 1234 },
    ]);
  });

  it("sends a read's acks as soon as its frames are handled, before the loop's next callback", async () => {
    const acks = new HeartbeatAcks(() => 1);
    const a = session();
    const b = session();
    // Two sockets read in one turn of the loop: the first one's ack is out before the second is even read, not
    // at the end of a turn that, on a busy server, reads thousands of sockets.
    const sentBeforeNextRead = await new Promise<number>((resolve) => {
      setImmediate(() => acks.ask(a, 3));
      setImmediate(() => {
        resolve(a.frames.length);
        acks.ask(b, 7);
      });
    });
    expect(sentBeforeNextRead).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(b.frames.map((f) => (decodeServerFrame(f) as { seq: number }).seq)).toEqual([7]);
  });

  it("answers a later ask in a later turn, after the earlier one was sent", async () => {
    const acks = new HeartbeatAcks(() => 1);
    const a = session();
    acks.ask(a, 0);
    await new Promise((resolve) => setImmediate(resolve));
    acks.ask(a, 4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.frames.map((f) => (decodeServerFrame(f) as { seq: number }).seq)).toEqual([0, 4]);
    expect(a.ackSeq).toBe(-1);
  });
});
