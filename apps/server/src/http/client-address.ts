import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";

/** Which proxies are believed about the client's address (`IGNIS_TRUST_PROXY`), as Fastify takes it. */
export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

/** The configured trust in Fastify's form: a hop count becomes "the first N hops", a list is copied. */
export function trustProxyOption(value: boolean | number | readonly string[]): TrustProxy {
  if (typeof value === "number") return (_address, hop) => hop < value;
  return typeof value === "object" ? [...value] : value;
}

/**
 * The client's address of a raw request, exactly as Fastify's `request.ip` reads it under the same trust: the
 * socket's address, or with a trusted proxy the last address in X-Forwarded-For that no trusted hop vouches for.
 * For paths served before Fastify's router (the worker socket's upgrade), so their limits key on the same address.
 */
export function clientAddress(trust: TrustProxy): (request: IncomingMessage) => string {
  if (trust === false) return (request) => request.socket.remoteAddress ?? "";
  const trusted =
    trust === true ? () => true : typeof trust === "function" ? trust : proxyAddr.compile(trust);
  return (request) => {
    const chain = proxyAddr.all(request, trusted);
    return chain[chain.length - 1] ?? request.socket.remoteAddress ?? "";
  };
}
