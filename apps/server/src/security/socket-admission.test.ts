import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { createSocketAdmission } from "./socket-admission.js";

describe("socket admission", () => {
  it("refuses an address's socket past its cap of sockets still in their handshake", () => {
    const admission = createSocketAdmission({ maxPendingPerAddress: 2 });
    admission.track("203.0.113.1", new EventEmitter());
    admission.track("203.0.113.1", new EventEmitter());
    expect(admission.mayOpen("203.0.113.1")).toBe(false);
    expect(admission.mayOpen("203.0.113.2")).toBe(true);
  });

  it("stops counting a socket once it authenticates, so a farm's live sessions never fill the cap", () => {
    const admission = createSocketAdmission({ maxPendingPerAddress: 2 });
    for (let i = 0; i < 100; i += 1) admission.track("198.51.100.7", new EventEmitter())();
    expect(admission.pending("198.51.100.7")).toBe(0);
    expect(admission.mayOpen("198.51.100.7")).toBe(true);
  });

  it("stops counting a socket when it closes, once only", () => {
    const admission = createSocketAdmission({ maxPendingPerAddress: 2 });
    const socket = new EventEmitter();
    const authenticated = admission.track("192.0.2.3", socket);
    admission.track("192.0.2.3", new EventEmitter());
    socket.emit("close");
    authenticated();
    expect(admission.pending("192.0.2.3")).toBe(1);
  });

  it("gives each freed place to the opener that has waited longest, and none to a later opener first", async () => {
    const admission = createSocketAdmission({ maxPendingPerAddress: 2 });
    const ip = "198.51.100.20";
    const first = admission.track(ip, new EventEmitter());
    const second = admission.track(ip, new EventEmitter());
    const order: string[] = [];
    const wait = (name: string) =>
      admission.line(ip, new EventEmitter()).then((place) => {
        order.push(name);
        return place;
      });
    const a = wait("a");
    const b = wait("b");
    const c = wait("c");
    expect(admission.waiting(ip)).toBe(3);
    // While anyone waits, a newcomer may not open directly, even the moment a place frees.
    expect(admission.mayOpen(ip)).toBe(false);
    first();
    expect(admission.pending(ip)).toBe(2);
    expect(admission.mayOpen(ip)).toBe(false);
    second();
    const [placeA] = await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(typeof placeA).toBe("function");
    expect(admission.waiting(ip)).toBe(1);
    (placeA as () => void)();
    expect(await c).toBeTypeOf("function");
    expect(order).toEqual(["a", "b", "c"]);
    expect(admission.waiting(ip)).toBe(0);
    expect(admission.pending(ip)).toBe(2);
  });

  it("lets an opener leave the line, and refuses one that waited too long or found the line full", async () => {
    vi.useFakeTimers();
    try {
      const admission = createSocketAdmission({
        maxPendingPerAddress: 1,
        maxWaitingPerAddress: 2,
        maxWaitMs: 2_500,
      });
      const ip = "203.0.113.30";
      admission.track(ip, new EventEmitter());
      const leaving = new EventEmitter();
      const left = admission.line(ip, leaving);
      const slow = admission.line(ip, new EventEmitter());
      // The line holds two: a third opener is refused at once.
      expect(await admission.line(ip, new EventEmitter())).toBeUndefined();
      leaving.emit("end");
      expect(await left).toBe("left");
      expect(admission.waiting(ip)).toBe(1);
      await vi.advanceTimersByTimeAsync(2_500);
      expect(await slow).toBeUndefined();
      expect(admission.waiting(ip)).toBe(0);
      // Another address never waits behind this one.
      expect(admission.mayOpen("203.0.113.31")).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("bounds the openers waiting across all addresses", async () => {
    const admission = createSocketAdmission({ maxPendingPerAddress: 1, maxWaiting: 2 });
    for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) admission.track(ip, new EventEmitter());
    const openers = [new EventEmitter(), new EventEmitter()];
    const held = [admission.line("192.0.2.1", openers[0]!), admission.line("192.0.2.2", openers[1]!)];
    expect(await admission.line("192.0.2.3", new EventEmitter())).toBeUndefined();
    expect(admission.waiting("192.0.2.1") + admission.waiting("192.0.2.2")).toBe(2);
    for (const opener of openers) opener.emit("close");
    expect(await Promise.all(held)).toEqual(["left", "left"]);
  });
});
