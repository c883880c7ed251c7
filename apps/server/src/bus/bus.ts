/**
 * The message bus between replicas: a subject per device (`ignis.device.<id>`) so a message for a device reaches
 * the replica holding its session. In-process by default; NATS when `IGNIS_NATS_URL` is set. Delivery is at most
 * once; callers that need to know a message arrived ask for an acknowledgement on a reply subject.
 */

/** Receives one message: its JSON payload and the concrete subject it was published on. */
export type BusHandler = (payload: unknown, subject: string) => void | Promise<void>;

/** A live subscription; unsubscribing twice is harmless. */
export interface BusSubscription {
  unsubscribe(): void;
}

/** Publish/subscribe between replicas. Subjects are dot-separated tokens; `*` matches one token, `>` the rest. */
export interface Bus {
  /** Publishes a JSON-serializable payload; throws `unavailable` when the bus cannot take it now. */
  publish(subject: string, payload: unknown): Promise<void>;
  /** Subscribes a handler to a subject or a wildcard pattern. */
  subscribe(subject: string, handler: BusHandler): BusSubscription;
  /** Stops delivery and releases connections. */
  close(): Promise<void>;
  /**
   * Calls `listener` each time the bus comes back after an outage (NATS). Subscriptions survive it, but what was
   * published meanwhile is lost, so state shared by messages (presence) must be announced again. A bus that
   * cannot lose its link (in-process) need not implement it.
   */
  onReconnect?(listener: () => void): void;
}

/** The subject that carries messages for one device. */
export function deviceSubject(deviceId: string): string {
  return `ignis.device.${deviceId}`;
}

/** True when a concrete subject matches a pattern with NATS wildcards (`*` one token, `>` one or more). */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
