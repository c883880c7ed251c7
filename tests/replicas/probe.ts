import { connect as connectTcp } from "node:net";

/** Resolves with a reason when nothing accepts TCP connections at the URL's host and port. */
export function probeTcp(url: string, label: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: hostname, port: Number(port), timeout: 2000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(`${label} unreachable at ${url} (timeout)`);
    });
    socket.once("error", (error) => resolve(`${label} unreachable at ${url} (${error.message})`));
  });
}
