import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy that a fault test can cut and restore, to take PostgreSQL or NATS away from the replicas only. */
export interface TcpProxy {
  /** The local port clients connect to; it stays the same across cut and restore. */
  port: number;
  /** Whether the proxy is currently passing traffic. */
  readonly up: boolean;
  /** Resets every open connection and refuses new ones, as a crashed or restarting server would. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Stops the proxy for good. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (an ephemeral port unless one is given) that forwards to `target`. */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let server: Server | undefined;
  let boundPort = port;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        open.add(client);
        open.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once("error", reject);
      s.listen(boundPort, "127.0.0.1", () => {
        const address = s.address();
        boundPort = typeof address === "object" && address ? address.port : boundPort;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
      if (!s) return resolve();
      s.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return boundPort;
    },
    get up() {
      return server !== undefined;
    },
    cut: stop,
    async restore() {
      if (!server) await listen();
    },
    close: stop,
  };
}
