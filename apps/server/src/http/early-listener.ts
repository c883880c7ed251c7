import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * The port, bound before the control plane is built. Loading the server's modules, migrating and starting its
 * services take seconds; until they are done every request (a worker's upgrade included) is answered at once
 * with 503, a problem+json `starting` and a Retry-After, so clients wait their turn instead of finding the port
 * closed, and `/healthz` says honestly that the server is not ready. Only node built-ins are imported, and only
 * erasable TypeScript is written, here: bin/ignis-server.js loads this module with node's own type stripping
 * before tsx and the server's modules, which take seconds to load on a busy machine.
 */
export interface EarlyListener {
  /** The bound listener; once the app is ready it takes over this listener's socket (`handOver`). */
  server: Server;
  /** The address it is bound to, as `http://host:port`. */
  address(): string;
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

function answerUpgrade(request: IncomingMessage, socket: Duplex): void {
  const body = startingProblem(request.url ?? "/");
  socket.end(
    "HTTP/1.1 503 Service Unavailable\r\n" +
      "content-type: application/problem+json\r\n" +
      `retry-after: ${startingRetryAfter()}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      "connection: close\r\n\r\n" +
      body,
  );
}

/** Binds `host:port` at once and answers 503 `starting` until the app takes the listener over. */
export async function listenEarly(port: number, host: string): Promise<EarlyListener> {
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000 }, answerRequest);
  server.on("upgrade", answerUpgrade);
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
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
    (globalThis as Record<symbol, unknown>)[HANDED] = await listenEarly(address.port, address.host);
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
