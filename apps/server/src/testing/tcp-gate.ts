import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./test-server.js";

/**
 * A TCP relay in front of a local service that a test can take down and bring back on the same port: down, every
 * connection is cut and new ones are refused, as when the service's host is unreachable.
 */
export interface TcpGate {
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a gate on a free port of 127.0.0.1 relaying to `targetPort`. */
export async function openTcpGate(targetPort: number): Promise<TcpGate> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((inbound) => {
        const outbound = connect(targetPort, "127.0.0.1");
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.once("close", () => sockets.delete(s));
          s.on("error", () => {
            inbound.destroy();
            outbound.destroy();
          });
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => {
        server = next;
        resolve();
      });
    });
  const down = async () => {
    const current = server;
    server = undefined;
    if (!current) return;
    const closed = new Promise((resolve) => current.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await up();
  return { url: `http://127.0.0.1:${port}`, down, up, close: down };
}
