/** Tuning of socket admission. */
export interface SocketAdmissionOptions {
  /** Sockets one address may hold open before they authenticate. */
  maxPendingPerAddress: number;
  /**
   * How long a socket counts as unauthenticated: the gateway closes a socket that has not authenticated within
   * its handshake deadline (10 s), so one still open after this is an authenticated session and no longer counts.
   */
  pendingMs: number;
  /** Openers of one address that may wait in line, in arrival order, for a place once its cap is reached. */
  maxWaitingPerAddress: number;
  /** Openers waiting in line across all addresses (each is a held TCP socket). */
  maxWaiting: number;
  /** How long an opener waits in line before it is refused: well inside a worker's 10-s upgrade timeout. */
  maxWaitMs: number;
}

/**
 * Defaults: 64 sockets in their handshake per address, each counted for its first 12 seconds; 256 more may wait
 * in line for up to 2.5 s (8,192 across all addresses).
 */
export const SOCKET_ADMISSION_DEFAULTS: SocketAdmissionOptions = {
  maxPendingPerAddress: 64,
  pendingMs: 12_000,
  maxWaitingPerAddress: 256,
  maxWaiting: 8_192,
  maxWaitMs: 2_500,
};

/** Anything that reports its closing, as a WebSocket does. */
interface Closable {
  once(event: "close", listener: () => void): unknown;
}

/** An opener waiting in line: a raw socket, which reports its peer leaving as `end` (half-open) or `close`. */
interface Leaving {
  once(event: "close" | "end", listener: () => void): unknown;
  off(event: "close" | "end", listener: () => void): unknown;
}

/** A counted place: call it when the socket authenticates (it no longer counts); closing it releases it too. */
export type Place = () => void;

/** Caps the worker sockets each address holds open before they authenticate. */
export interface SocketAdmission {
  /** True when the address may open one more socket now: under its cap, and nobody of it waits in line. */
  mayOpen(ip: string): boolean;
  /** Counts an admitted socket against its address until it authenticates (call the result) or closes. */
  track(ip: string, socket: Closable): Place;
  /**
   * Waits in the address's line for a place, in arrival order: the place (counted from the moment it was freed,
   * so no later opener takes it first) when one frees within `maxWaitMs`; `"left"` when the opener went away
   * first; undefined when the line is full or the wait ran out (refuse the opener).
   */
  line(ip: string, socket: Closable & Leaving): Promise<Place | "left" | undefined>;
  /** Sockets of the address still counted as unauthenticated. */
  pending(ip: string): number;
  /** Openers of the address waiting in line. */
  waiting(ip: string): number;
}

interface Waiter {
  socket: Closable & Leaving;
  settle(result: Place | "left" | undefined): void;
}

/**
 * Per-address admission of worker sockets. A GPU farm behind one NAT holds hundreds of authenticated sessions
 * from one address, so only sockets still in their handshake are capped: a flood of sockets that never
 * authenticate is refused at the upgrade, while sessions that did authenticate are never counted.
 *
 * Past the cap an opener waits in a short line instead of being refused at once: when the farm's whole fleet
 * reconnects together (a rolling restart), each place that frees goes at once to the opener that has waited
 * longest. Refused with a Retry-After instead, openers raced for places at random on every retry: a place stood
 * free until the next retry came, and on a loaded server an unlucky device lost round after round, for longer
 * than an uptime slot (the fleet-migration test, 14 of 200 devices). The line is bounded per address and in all,
 * and short in time, so a flooder holds at most its cap plus its line, each for seconds.
 */
export function createSocketAdmission(options: Partial<SocketAdmissionOptions> = {}): SocketAdmission {
  const o = { ...SOCKET_ADMISSION_DEFAULTS, ...options };
  const counts = new Map<string, number>();
  const lines = new Map<string, Waiter[]>();
  let waitingTotal = 0;

  /** Hands freed places to the address's line, longest waiting first. */
  const admitWaiting = (ip: string) => {
    const line = lines.get(ip);
    while (line && line.length > 0 && (counts.get(ip) ?? 0) < o.maxPendingPerAddress) {
      const waiter = line.shift()!;
      waiter.settle(track(ip, waiter.socket));
    }
  };
  const release = (ip: string) => {
    const n = (counts.get(ip) ?? 1) - 1;
    if (n <= 0) counts.delete(ip);
    else counts.set(ip, n);
    admitWaiting(ip);
  };
  const track = (ip: string, socket: Closable): Place => {
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      clearTimeout(timer);
      release(ip);
    };
    const timer = setTimeout(done, o.pendingMs);
    timer.unref();
    socket.once("close", done);
    return done;
  };

  const mayOpen = (ip: string) => (counts.get(ip) ?? 0) < o.maxPendingPerAddress && !lines.has(ip);

  return {
    mayOpen,
    track,
    line(ip, socket) {
      if (mayOpen(ip)) return Promise.resolve(track(ip, socket));
      const line = lines.get(ip) ?? [];
      if (line.length >= o.maxWaitingPerAddress || waitingTotal >= o.maxWaiting) {
        return Promise.resolve(undefined);
      }
      return new Promise((resolve) => {
        const left = () => waiter.settle("left");
        const timer = setTimeout(() => waiter.settle(undefined), o.maxWaitMs);
        let settled = false;
        const waiter: Waiter = {
          socket,
          settle(result) {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.off("end", left);
            socket.off("close", left);
            waitingTotal--;
            // A place handed over was shifted off the line already; a waiter leaving or timing out is taken off.
            const at = line.indexOf(waiter);
            if (at >= 0) line.splice(at, 1);
            if (line.length === 0 && lines.get(ip) === line) lines.delete(ip);
            resolve(result);
          },
        };
        socket.once("end", left);
        socket.once("close", left);
        line.push(waiter);
        lines.set(ip, line);
        waitingTotal++;
      });
    },
    pending: (ip) => counts.get(ip) ?? 0,
    waiting: (ip) => lines.get(ip)?.length ?? 0,
  };
}
