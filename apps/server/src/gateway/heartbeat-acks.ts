import { encodeHeartbeatAck } from "@ignis/protocol";

/** A session that can be sent a raw acknowledgement frame; `ackSeq` is its highest pending seq, -1 for none. */
export interface AckTarget {
  ackSeq: number;
  /** Writes a frame already encoded; false when the socket is not open. */
  sendRaw(frame: string): boolean;
  /** The session's negotiated protocol version, stamped on its acks (v1 when absent). */
  readonly info?: { readonly protocolVersion: number };
}

/**
 * Acknowledgements asked for by the frames of one read, sent once per session as soon as that read's frames are
 * handled (a microtask: every frame `ws` parsed from one chunk of the socket is handled in the same callback): an
 * ack for seq N answers every heartbeat up to N that asked for one (docs/worker-sessions.md). A session whose
 * frames arrived together (a burst after a stall, a load generator) then costs one socket write, not one each.
 * The ack leaves while the event loop is still reading other sockets, rather than at the end of the loop's turn:
 * on a busy server a turn reads thousands of sockets and lasts a large part of a second, and every ack waited
 * for all of it.
 */
export class HeartbeatAcks {
  private pending: AckTarget[] = [];
  private scheduled = false;

  constructor(private readonly now: () => number) {}

  /** Notes that `session` asked for an acknowledgement of heartbeat `seq`. */
  ask(session: AckTarget, seq: number): void {
    if (session.ackSeq < 0) this.pending.push(session);
    if (seq > session.ackSeq) session.ackSeq = seq;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Sends every pending acknowledgement (one frame per session) with one server time. */
  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    const serverTime = this.now();
    for (const session of batch) {
      const seq = session.ackSeq;
      session.ackSeq = -1;
      session.sendRaw(encodeHeartbeatAck(seq, serverTime, session.info?.protocolVersion));
    }
  };
}
