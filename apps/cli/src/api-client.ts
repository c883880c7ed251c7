/** An error answer of the Ignis API, carrying its problem+json `code`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the Ignis HTTP API with JSON in and out; non-2xx answers throw an ApiError with the problem's code. */
export async function apiRequest<T>(
  server: string,
  path: string,
  options: { method?: string; body?: unknown; token?: string | undefined; timeoutMs?: number } = {},
): Promise<T> {
  const response = await fetch(new URL(path, server.endsWith("/") ? server : `${server}/`), {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      accept: "application/json",
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
    throw new ApiError(
      response.status,
      problem.code ?? "unknown",
      problem.detail ?? problem.title ?? `HTTP ${response.status}`,
    );
  }
  return parsed as T;
}
