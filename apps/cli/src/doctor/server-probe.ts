/** What one `GET /healthz` told about a server, or why it could not be asked. */
export type ServerProbe =
  | {
      reachable: true;
      httpStatus: number;
      /** `ok` when ready; `starting` while a server opens its database. */
      status: string | null;
      version: string | null;
      /** The server's clock in epoch ms (its `x-ignis-time` header, else its Date header), or null. */
      serverTimeMs: number | null;
      /** How precise `serverTimeMs` is: 1 ms from `x-ignis-time`, 500 ms from a Date header. */
      serverTimeResolutionMs: number;
      /** The local clock halfway through the request, in epoch ms. */
      localMidMs: number;
      rttMs: number;
    }
  | { reachable: false; reason: string };

/** Asks `server` for `GET /healthz` once, timing it, within `timeoutMs` (or until `signal` aborts). */
export async function probeServer(
  server: string,
  options: { timeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<ServerProbe> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5000);
  const url = new URL("healthz", server.endsWith("/") ? server : `${server}/`);
  const sent = Date.now();
  const start = performance.now();
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url, { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
    body = await res.json().catch(() => null);
  } catch (error) {
    return { reachable: false, reason: reasonOf(error) };
  }
  const rttMs = performance.now() - start;
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  // The release and the clock come in headers: the body stays exactly { status: "ok" } (CONTRACT.md).
  const time = Date.parse(res.headers.get("x-ignis-time") ?? "");
  const release = res.headers.get("x-ignis-release");
  const date = Date.parse(res.headers.get("date") ?? "");
  return {
    reachable: true,
    httpStatus: res.status,
    status: typeof fields.status === "string" ? fields.status.slice(0, 40) : null,
    version: release ? release.slice(0, 40) : null,
    // A Date header is truncated to the second: its middle is the best guess, half a second either way.
    serverTimeMs: Number.isFinite(time) ? time : Number.isFinite(date) ? date + 500 : null,
    serverTimeResolutionMs: Number.isFinite(time) ? 1 : 500,
    localMidMs: sent + rttMs / 2,
    rttMs,
  };
}

/** A short reason for a failed request: the system error code when there is one (ECONNREFUSED, ENOTFOUND...). */
function reasonOf(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return "no answer in time";
  return (err.cause?.code ?? err.cause?.message ?? err.message ?? String(error)).slice(0, 120);
}
