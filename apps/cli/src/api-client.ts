import { RETRYABLE_STATUSES, retryAfterMs, withJitter } from "./retry-after.js";

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

/** The server could not be reached at all (refused, unknown host, timed out); the message says what to check. */
export class ServerUnreachableError extends Error {
  override readonly name = "ServerUnreachableError";
  constructor(
    readonly server: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(
      `cannot reach ${server} (${reason}): check that ignis-server runs there, or pass --server URL / set IGNIS_SERVER`,
      options,
    );
  }
}

/** Options of one API call. */
export interface ApiRequestOptions {
  method?: string;
  body?: unknown;
  token?: string | undefined;
  /** Per attempt. */
  timeoutMs?: number;
  /**
   * How long, in all, to keep retrying answers of 429 or 503 after their Retry-After (with jitter, exponential
   * backoff when the header is absent); 0 does not retry. Default two minutes.
   */
  retryBudgetMs?: number;
  /** Told before each retry, e.g. to show "rate limited, retrying in 3 s". */
  onRetry?: (info: { status: number; waitMs: number }) => void;
}

const DEFAULT_RETRY_BUDGET_MS = 120_000;

function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === "TimeoutError") return "no answer in time";
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Calls the Ignis HTTP API with JSON in and out; non-2xx answers throw an ApiError with the problem's code.
 * 429 and 503 are waited out as the server's Retry-After says, within the retry budget: both mean the request
 * was not served, so sending it again is safe.
 */
export async function apiRequest<T>(
  server: string,
  path: string,
  options: ApiRequestOptions = {},
): Promise<T> {
  const url = new URL(path, server.endsWith("/") ? server : `${server}/`);
  const budgetMs = options.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        headers: {
          accept: "application/json",
          ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new ServerUnreachableError(url.origin, unreachableReason(error), { cause: error });
    }
    const text = await response.text();
    if (RETRYABLE_STATUSES.has(response.status)) {
      const asked = retryAfterMs(response.headers.get("retry-after"));
      const waitMs = withJitter(asked ?? Math.min(30_000, 1000 * 2 ** attempt));
      if (Date.now() - started + waitMs <= budgetMs) {
        options.onRetry?.({ status: response.status, waitMs });
        await new Promise((r) => setTimeout(r, waitMs));
        continue;
      }
    }
    const parsed = text ? parseJson(text) : undefined;
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
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A proxy's HTML error page, say: the status tells the story.
    return undefined;
  }
}
