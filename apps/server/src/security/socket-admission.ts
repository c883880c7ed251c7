/** Tuning of socket admission. */
export interface SocketAdmissionOptions {
  /** Sockets one address may hold open before they authenticate. */
  maxPendingPerAddress: number;
  /**
   * How long a socket counts as unauthenticated: the gateway closes a socket that has not authenticated within
   * its handshake deadline (10 s), so one still open after this is an authenticated session and no longer counts.
   */
  pendingMs: number;
}

/** Defaults: 64 sockets in their handshake per address, each counted for its first 12 seconds. */
export const SOCKET_ADMISSION_DEFAULTS: SocketAdmissionOptions = {
  maxPendingPerAddress: 64,
  pendingMs: 12_000,
};

/** Anything that reports its closing, as a WebSocket does. */
interface Closable {
  once(event: "close", listener: () => void): unknown;
}

/** Caps the worker sockets each address holds open before they authenticate. */
export interface SocketAdmission {
  /** True when the address may open one more socket now. */
  mayOpen(ip: string): boolean;
  /** Counts an admitted socket against its address until it authenticates (call the result) or closes. */
  track(ip: string, socket: Closable): () => void;
  /** Sockets of the address still counted as unauthenticated. */
  pending(ip: string): number;
}

/**
 * Per-address admission of worker sockets. A GPU farm behind one NAT holds hundreds of authenticated sessions
 * from one address, so only sockets still in their handshake are capped: a flood of sockets that never
 * authenticate is refused at the upgrade, while sessions that did authenticate are never counted.
 */
export function createSocketAdmission(options: Partial<SocketAdmissionOptions> = {}): SocketAdmission {
  const o = { ...SOCKET_ADMISSION_DEFAULTS, ...options };
  const counts = new Map<string, number>();
  const release = (ip: string) => {
    const n = (counts.get(ip) ?? 1) - 1;
    if (n <= 0) counts.delete(ip);
    else counts.set(ip, n);
  };
  return {
    mayOpen: (ip) => (counts.get(ip) ?? 0) < o.maxPendingPerAddress,
    track(ip, socket) {
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
    },
    pending: (ip) => counts.get(ip) ?? 0,
  };
}
