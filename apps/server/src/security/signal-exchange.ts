import { z } from "zod";
import type { Bus, BusSubscription } from "../bus/bus.js";
import { RATE_CLASSES } from "./rate-limits.js";
import { HANDSHAKE_REFUSALS, type HandshakeAttempt } from "./rules/unknown-device-handshake.js";
import { ACTOR_TYPES, CREDENTIAL_TYPES, type RequestSignal } from "./signals.js";

/** The subject every replica publishes its observations on and listens to for the others'. */
export const SIGNALS_SUBJECT = "ignis.security.signals";

/** One batch of one replica's observations. */
interface SignalBatch {
  replicaId: string;
  signals: RequestSignal[];
  handshakes: HandshakeAttempt[];
}

const nullableString = z.string().nullable();
/** What a replica accepts from another: during a rolling upgrade the sender may be another version. */
const RemoteSignal = z.object({
  at: z.number(),
  actorType: z.enum(ACTOR_TYPES),
  actorId: nullableString,
  credentialId: nullableString,
  credentialType: z.enum(CREDENTIAL_TYPES).nullable(),
  admin: z.boolean(),
  ip: z.string(),
  method: z.string(),
  route: z.string(),
  rateClass: z.enum(RATE_CLASSES),
  write: z.boolean(),
  objectType: nullableString,
  objectId: nullableString,
  status: z.number().int(),
}) satisfies z.ZodType<RequestSignal>;
const RemoteHandshake = z.object({
  at: z.number(),
  deviceId: nullableString,
  ip: z.string(),
  reason: z.enum(HANDSHAKE_REFUSALS),
}) satisfies z.ZodType<HandshakeAttempt>;
const RemoteBatch = z.object({
  replicaId: z.string(),
  signals: z.array(z.unknown()),
  handshakes: z.array(z.unknown()),
});

/** Shares what this replica observes with the others and hands theirs to `onSignal` / `onHandshake`. */
export interface SignalExchange {
  share(signal: RequestSignal): void;
  shareHandshake(attempt: HandshakeAttempt): void;
  /** Publishes what is batched and stops listening. */
  close(): Promise<void>;
}

/** Settings of the exchange; the defaults fit a few thousand requests a second per replica. */
export interface SignalExchangeOptions {
  bus: Bus;
  replicaId: string;
  log: { warn(obj: object, msg: string): void };
  onSignal(signal: RequestSignal): void;
  onHandshake(attempt: HandshakeAttempt): void;
  /** How long an observation may wait for its batch. */
  flushMs?: number;
  /** A batch is sent at once when it holds this many observations. */
  maxBatch?: number;
}

/** At most one warning this often while the bus refuses batches. */
const WARN_EVERY_MS = 10_000;

/**
 * Detection across replicas: each replica feeds its rules with its own requests and, through the bus, with every
 * other replica's, so a stolen key whose writes a proxy spreads over ten replicas is seen at its full rate, not
 * as ten tenths under the threshold. Observations travel in batches (every `flushMs`, default 50 ms); while the
 * bus is down they are dropped with a warning and each replica detects on what it sees itself.
 */
export function createSignalExchange(options: SignalExchangeOptions): SignalExchange {
  const flushMs = options.flushMs ?? 50;
  const maxBatch = options.maxBatch ?? 500;
  let batch: SignalBatch = { replicaId: options.replicaId, signals: [], handshakes: [] };
  let timer: NodeJS.Timeout | undefined;
  let lastWarning = 0;

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.signals.length === 0 && batch.handshakes.length === 0) return;
    const sending = batch;
    batch = { replicaId: options.replicaId, signals: [], handshakes: [] };
    try {
      await options.bus.publish(SIGNALS_SUBJECT, sending);
    } catch (error) {
      if (Date.now() - lastWarning < WARN_EVERY_MS) return;
      lastWarning = Date.now();
      options.log.warn(
        { err: error, dropped: sending.signals.length + sending.handshakes.length },
        "security signals not shared: the other replicas detect without this replica's traffic for now",
      );
    }
  };

  const added = () => {
    if (batch.signals.length + batch.handshakes.length >= maxBatch) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), flushMs);
      timer.unref();
    }
  };

  let lastRejection = 0;
  /** Feeds what parses; an observation of another shape is dropped, with a warning now and then. */
  const each = <T>(items: unknown[], schema: z.ZodType<T>, use: (item: T) => void) => {
    let rejected = 0;
    for (const item of items) {
      const parsed = schema.safeParse(item);
      if (parsed.success) use(parsed.data);
      else rejected++;
    }
    if (rejected === 0 || Date.now() - lastRejection < WARN_EVERY_MS) return;
    lastRejection = Date.now();
    options.log.warn({ rejected }, "security signals of an unknown shape from another replica were dropped");
  };

  const subscription: BusSubscription = options.bus.subscribe(SIGNALS_SUBJECT, (raw) => {
    const received = RemoteBatch.safeParse(raw);
    if (!received.success || received.data.replicaId === options.replicaId) return;
    each(received.data.signals, RemoteSignal, options.onSignal);
    each(received.data.handshakes, RemoteHandshake, options.onHandshake);
  });

  return {
    share(signal) {
      batch.signals.push(signal);
      added();
    },
    shareHandshake(attempt) {
      batch.handshakes.push(attempt);
      added();
    },
    async close() {
      await flush();
      subscription.unsubscribe();
    },
  };
}
