import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
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
});
