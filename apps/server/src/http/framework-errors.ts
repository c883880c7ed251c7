import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { IgnisError } from "@ignis/protocol";
import { problemFor } from "./problem.js";

/**
 * The IgnisError for a refusal that Fastify's router makes before any route or hook runs: a path whose
 * percent-encoding does not decode (FST_ERR_BAD_URL) or a path parameter longer than `maxParamLength`.
 */
export function frameworkProblem(error: { code?: string }): IgnisError {
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    return new IgnisError("uri_too_long", "a path parameter is too long");
  }
  return new IgnisError("bad_request", "the request path is not valid");
}

/**
 * Answers a request that Node's HTTP parser refused before Fastify saw it (headers over `maxHeaderSize`, a
 * query string of 20 KB among them; a request past its timeout; bytes that are not HTTP) with a problem+json
 * body, then closes the socket as Node's own handler does. No request id was read, so one is made up.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const ignis =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new IgnisError("headers_too_large", "the request line and headers are too large")
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new IgnisError("request_timeout", "the request took too long to arrive")
        : new IgnisError("bad_request", "the request is not valid HTTP");
  const problem = problemFor(ignis, randomUUID(), "/");
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
        "Content-Type: application/problem+json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy(error);
}
