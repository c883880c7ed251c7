import { IgnisError } from "@ignis/protocol";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { FastifyBaseLogger } from "fastify";
import type { Bus, BusHandler, BusSubscription } from "./bus.js";

/** The NATS-backed bus, with what the composition root and tests read about its connection. */
export interface NatsBus extends Bus {
  /** Whether the connection to NATS is up right now (publishes fail fast while it is not). */
  readonly connected: boolean;
  /** Messages published and refused since start, for logs and fault timelines. */
  stats(): { published: number; refused: number; received: number };
  /** Resolves once NATS has processed everything this replica sent so far (subscriptions included). */
  flush(): Promise<void>;
}

/** How long the first connection may take before the server refuses to start. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to NATS for routing device messages between replicas (subject per device). Reconnects forever with a
 * short wait; while disconnected, `publish` throws `unavailable` at once instead of buffering a challenge or a
 * revocation that would arrive stale, and subscriptions are renewed by the client when the link returns.
 */
export async function connectNatsBus(options: {
  url: string;
  name: string;
  log: Pick<FastifyBaseLogger, "info" | "warn" | "error">;
}): Promise<NatsBus> {
  const { log } = options;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url,
      name: options.name,
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      // Notice a silently dead link within ~10 s rather than the client default of minutes.
      pingInterval: 5_000,
      maxPingOut: 2,
    });
  } catch (error) {
    throw new IgnisError("unavailable", `cannot connect to NATS at ${redactUrl(options.url)}`, {
      cause: error,
    });
  }
  let connected = true;
  let closing = false;
  const reconnectListeners: Array<() => void> = [];
  const counts = { published: 0, refused: 0, received: 0 };
  log.info({ server: nc.getServer() }, "message bus connected (NATS)");

  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        connected = false;
        if (!closing)
          log.warn({ server: status.server }, "message bus disconnected; cross-replica delivery paused");
      } else if (status.type === "reconnect") {
        connected = true;
        log.info({ server: status.server }, "message bus reconnected; cross-replica delivery resumed");
        for (const listener of reconnectListeners) {
          try {
            listener();
          } catch (error) {
            log.warn({ err: error }, "bus reconnect listener failed");
          }
        }
      } else if (status.type === "error") {
        log.error({ err: status.error }, "message bus error");
      }
    }
  })();

  return {
    get connected() {
      return connected && !nc.isClosed();
    },
    stats: () => ({ ...counts }),
    flush: () => nc.flush(),
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async publish(subject, payload) {
      if (!connected || nc.isClosed() || nc.isDraining()) {
        counts.refused++;
        throw new IgnisError(
          "unavailable",
          "message bus unavailable: the device's replica cannot be reached",
          {
            details: { subject },
          },
        );
      }
      nc.publish(subject, JSON.stringify(payload));
      counts.published++;
    },
    subscribe(subject: string, handler: BusHandler): BusSubscription {
      const sub = nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error) {
            log.warn({ err: error, subject }, "message bus subscription error");
            return;
          }
          counts.received++;
          let payload: unknown;
          try {
            payload = msg.json();
          } catch (cause) {
            log.warn({ err: cause, subject: msg.subject }, "dropped a bus message that is not JSON");
            return;
          }
          deliver(handler, payload, msg.subject, log);
        },
      });
      return {
        unsubscribe() {
          if (!nc.isClosed()) sub.unsubscribe();
        },
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      // Drain sends what is queued and lets in-flight handlers finish; a dead link must not hold shutdown.
      const drained = nc.drain().catch(() => undefined);
      const timeout = new Promise((r) => setTimeout(r, 2_000).unref());
      await Promise.race([drained, timeout]);
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    },
  };
}

function deliver(
  handler: BusHandler,
  payload: unknown,
  subject: string,
  log: Pick<FastifyBaseLogger, "warn">,
): void {
  try {
    const result = handler(payload, subject);
    if (result instanceof Promise) {
      result.catch((error: unknown) => log.warn({ err: error, subject }, "bus handler failed"));
    }
  } catch (error) {
    log.warn({ err: error, subject }, "bus handler failed");
  }
}

/** The URL without credentials, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}
