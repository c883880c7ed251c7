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
 * Acknowledgements asked for within one turn of the event loop, sent once per session at the end of the turn:
 * an ack for seq N answers every heartbeat up to N that asked for one (docs/worker-sessions.md). A session whose
 * frames arrived together (a burst after a stall, a load generator) then costs one socket write, not one each.
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
      setImmediate(this.flush);
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
