import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * The port, bound before the control plane is built. Loading the server's modules, migrating and starting its
 * services take seconds; until they are done every request is answered at once with 503, a problem+json
 * `starting` and a Retry-After, so clients wait their turn instead of finding the port closed, and `/healthz`
 * says honestly that the server is not ready. A worker's session upgrade is held instead, up to the first
 * seconds of handshakes the server will admit (`EarlyHold`), and handed to the app when it takes over: after a
 * restart the fleet's first devices are served the moment the server is ready instead of each losing a round
 * trip and a Retry-After. Only node built-ins are imported, and only erasable TypeScript is written, here:
 * bin/ignis-server.js loads this module with node's own type stripping before tsx and the server's modules,
 * which take seconds to load on a busy machine.
 */
export interface EarlyListener {
  /** The bound listener; once the app is ready it takes over this listener's socket (`handOver`). */
  server: Server;
  /** The address it is bound to, as `http://host:port`. */
  address(): string;
  /**
   * Called once the app listens on this listener's socket: every upgrade held so far, and any that still comes
   * to this listener (on a connection it accepted), goes to `to`'s `upgrade` listeners, in arrival order.
   */
  handOver(to: Server): void;
  /** Upgrades held now (tests). */
  held(): number;
}

/** The worker session's path (`WORKER_SESSION_PATH` of @ignis/protocol, which this module may not import). */
export const WORKER_PATH = "/v1/worker/session";

/** A Sec-WebSocket-Key as RFC 6455 has it (16 bytes, base64), the form `ws` accepts. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Whether a request is a WebSocket handshake `ws` would complete (method, Upgrade, key, version). One that is not
 * takes no place among held upgrades nor in the app's server-wide pace (http/routes/worker-socket.ts): otherwise
 * a flood of malformed upgrades, which never become sockets and so never count against their address, would
 * spend the handshakes the fleet is admitted by.
 */
export function isWebSocketHandshake(request: IncomingMessage): boolean {
  const version = request.headers["sec-websocket-version"];
  const key = request.headers["sec-websocket-key"];
  return (
    request.method === "GET" &&
    request.headers.upgrade?.toLowerCase() === "websocket" &&
    typeof key === "string" &&
    WEBSOCKET_KEY.test(key) &&
    (version === "13" || version === "8")
  );
}

/** How many worker upgrades a starting server holds for the app, and for how long. */
export interface EarlyHold {
  /** Upgrades held at once: the first seconds of handshakes the app admits (its pace's bucket and queue). */
  capacity: number;
  /** Held at once from one address (as many as the app lets one address have in their handshake). */
  perAddress: number;
  /** The longest an upgrade is held; then it is answered `starting` after all. */
  maxMs: number;
}

/**
 * Seconds of the server's handshake pace a starting server holds: the pacer's one-second bucket and its queue
 * (gateway/handshake-pacer.ts, ADMISSION_QUEUE_SECONDS), so every held upgrade is admitted, at once or in turn.
 */
export const EARLY_HOLD_SECONDS_OF_PACE = 4;

/**
 * The longest an upgrade is held. A worker gives the server 10 s to answer its upgrade (worker-agent.ts); a held
 * one may then wait up to ADMISSION_QUEUE_SECONDS (3 s) in the app's queue.
 */
export const EARLY_HOLD_MAX_MS = 4000;

/**
 * The listening socket's queue of connections the kernel has accepted and the server has yet to take (the
 * kernel caps it at net.core.somaxconn). Node's default, 511, is a fraction of a fleet reconnecting at once:
 * while a starting server loads its modules it takes no connection, the queue fills, and the kernel drops the
 * rest's SYNs, which their TCP stacks retry after 1, 3, 7 and 15 s. A reconnect storm of 5,000 devices measured
 * 267,038 such overflows and devices that waited up to 16 s for a server that was idle half the time
 * (docs/performance.md).
 */
export const LISTEN_BACKLOG = 65_535;

/** Sockets one address may hold in their handshake (security/socket-admission.ts's default). */
export const EARLY_HOLD_PER_ADDRESS = 64;

/**
 * The hold for a pace of handshakes a second, read from IGNIS_HANDSHAKES_PER_SECOND as config.ts reads it. Behind
 * a trusted proxy (IGNIS_TRUST_PROXY, read as config.ts reads it) every connection comes from the proxy's address,
 * which this module cannot see past, so no share per address is kept here: the app keys its cap on the client's
 * own address when it takes the held upgrades over.
 */
export function earlyHold(env: Readonly<Record<string, string | undefined>>): EarlyHold {
  const text = env.IGNIS_HANDSHAKES_PER_SECOND?.trim();
  const asked = text && /^\d{1,7}$/.test(text) ? Number(text) : 2000;
  const perSecond = asked >= 1 && asked <= 1_000_000 ? asked : 2000;
  const capacity = perSecond * EARLY_HOLD_SECONDS_OF_PACE;
  const proxy = env.IGNIS_TRUST_PROXY;
  const behindProxy = proxy !== undefined && proxy !== "" && proxy !== "false" && !/^0+$/.test(proxy);
  return {
    capacity,
    perAddress: behindProxy ? capacity : EARLY_HOLD_PER_ADDRESS,
    maxMs: EARLY_HOLD_MAX_MS,
  };
}

/**
 * Ends a socket whose upgrade is refused with a plain HTTP answer and a problem+json body (`headers` in order,
 * after the content type); the connection closes after it.
 */
export function endUpgradeWithProblem(
  socket: Duplex,
  status: number,
  title: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  let head = `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json; charset=utf-8\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Seconds a client is asked to wait while the server starts: a small spread so a fleet does not return at once. */
export const STARTING_RETRY_AFTER_SECONDS = { min: 1, max: 3 } as const;

/** A Retry-After in whole seconds within `STARTING_RETRY_AFTER_SECONDS`, picked at random for each answer. */
export function startingRetryAfter(random: () => number = Math.random): number {
  const { min, max } = STARTING_RETRY_AFTER_SECONDS;
  return min + Math.floor(random() * (max - min + 1));
}

/** The problem+json body every request gets while the server starts. */
export function startingProblem(instance: string): string {
  return JSON.stringify({
    type: "about:blank",
    title: "Service Unavailable",
    status: 503,
    code: "starting",
    detail: "the server is starting; retry after the time in Retry-After",
    instance,
  });
}

function answerRequest(request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? "/").split("?")[0]!;
  const body =
    path === "/healthz" ? JSON.stringify({ status: "starting" }) : startingProblem(request.url ?? "/");
  response.writeHead(503, {
    "content-type": path === "/healthz" ? "application/json" : "application/problem+json",
    "retry-after": String(startingRetryAfter()),
    "cache-control": "no-store",
    connection: "close",
  });
  response.end(body);
}

/** A socket whose upgrade is held or answered here is dropped when it resets (node removed its error listener). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function answerUpgrade(request: IncomingMessage, socket: Duplex): void {
  // Node took the socket's error listener away before `upgrade`: a client that resets while the answer is being
  // written must not become an uncaught error that ends the starting server.
  socket.on("error", destroyOnError);
  endUpgradeWithProblem(socket, 503, "Service Unavailable", startingProblem(request.url ?? "/"), {
    "retry-after": String(startingRetryAfter()),
    "cache-control": "no-store",
  });
}

interface Held {
  request: IncomingMessage;
  head: Buffer;
  address: string;
  timer: NodeJS.Timeout;
  left: () => void;
}

/**
 * Binds `host:port` at once and answers 503 `starting` until the app takes the listener over; worker upgrades
 * are held for the app within `hold` (none without it).
 */
export async function listenEarly(port: number, host: string, hold?: EarlyHold): Promise<EarlyListener> {
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000 }, answerRequest);
  const held = new Map<Duplex, Held>();
  const perAddress = new Map<string, number>();
  let target: Server | undefined;
  const release = (socket: Duplex): Held | undefined => {
    const entry = held.get(socket);
    if (!entry) return undefined;
    held.delete(socket);
    clearTimeout(entry.timer);
    socket.off("end", entry.left);
    socket.off("close", entry.left);
    socket.off("error", destroyOnError);
    const n = (perAddress.get(entry.address) ?? 1) - 1;
    if (n > 0) perAddress.set(entry.address, n);
    else perAddress.delete(entry.address);
    return entry;
  };
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (target) {
      target.emit("upgrade", request, socket, head);
      return;
    }
    const address = (socket as { remoteAddress?: string }).remoteAddress ?? "";
    if (
      !hold ||
      held.size >= hold.capacity ||
      (perAddress.get(address) ?? 0) >= hold.perAddress ||
      (request.url ?? "").split("?")[0] !== WORKER_PATH ||
      !isWebSocketHandshake(request)
    ) {
      answerUpgrade(request, socket);
      return;
    }
    const timer = setTimeout(() => {
      release(socket);
      answerUpgrade(request, socket);
    }, hold.maxMs);
    timer.unref();
    // The server's sockets are half-open ones: an opener that leaves is seen as `end`, and its socket is ended.
    const left = () => {
      release(socket);
      socket.destroy();
    };
    socket.on("error", destroyOnError);
    socket.once("end", left);
    socket.once("close", left);
    held.set(socket, { request, head, address, timer, left });
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    handOver(to) {
      target = to;
      for (const socket of [...held.keys()]) {
        const entry = release(socket)!;
        if (!socket.destroyed) to.emit("upgrade", entry.request, socket, entry.head);
      }
    },
    held: () => held.size,
    address() {
      const bound = server.address();
      if (bound === null || typeof bound === "string") return String(bound);
      const name = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
      return `http://${name}:${bound.port}`;
    },
  };
}

const HANDED = Symbol.for("ignis.earlyListener");

/**
 * Where a plain `ignis-server [--port P] [--data DIR]` will listen, read the way config.ts reads it (the flag
 * over IGNIS_PORT over 8080, IGNIS_HOST over 0.0.0.0); undefined for any other command line or a value
 * config.ts would refuse, which then takes the ordinary path and its errors.
 */
export function earlyAddress(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { port: number; host: string } | undefined {
  const set = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());
  let port = set(env.IGNIS_PORT);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--port" || arg === "--data") {
      if (i + 1 >= argv.length) return undefined;
      if (arg === "--port") port = argv[i + 1];
      i++;
    } else if (arg.startsWith("--port=")) port = arg.slice("--port=".length);
    else if (!arg.startsWith("--data=")) return undefined;
  }
  const portNumber = port === undefined ? 8080 : /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(portNumber >= 0 && portNumber <= 65_535)) return undefined;
  return { port: portNumber, host: set(env.IGNIS_HOST) ?? "0.0.0.0" };
}

/**
 * Binds early for bin/ignis-server.js and keeps the listener for `takeEarlyListener`; a port that cannot be
 * bound here (in use, say) is left to the ordinary start, which reports it.
 */
export async function bindEarly(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const address = earlyAddress(argv, env);
  if (!address) return;
  try {
    (globalThis as Record<symbol, unknown>)[HANDED] = await listenEarly(
      address.port,
      address.host,
      earlyHold(env),
    );
  } catch {
    // The ordinary start binds the port again and says what is wrong.
  }
}

/**
 * The listener bound by `bindEarly`, if it is bound where the config says to listen (and forgets it, so it is
 * taken once); one bound elsewhere is closed.
 */
export async function takeEarlyListener(port: number, host: string): Promise<EarlyListener | undefined> {
  const store = globalThis as Record<symbol, unknown>;
  const early = store[HANDED] as EarlyListener | undefined;
  delete store[HANDED];
  if (!early) return undefined;
  const bound = early.server.address();
  if (
    bound !== null &&
    typeof bound !== "string" &&
    bound.address === host &&
    (port === 0 || bound.port === port)
  )
    return early;
  await new Promise((resolve) => early.server.close(resolve));
  return undefined;
}
