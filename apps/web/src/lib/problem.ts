/** An error answered by the API as problem+json, or a network failure described the same way. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly requestId?: string,
    readonly errors?: { path: string; message: string }[],
  ) {
    super(detail);
  }

  /** True when the server has no such route: a feature another part of the system has not shipped. */
  get isMissingRoute(): boolean {
    return this.status === 404 && this.detail === "no such route or object";
  }
}

/** Reads a failed response into an ApiProblem, whatever its body. */
export async function problemFrom(response: Response): Promise<ApiProblem> {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // not JSON: keep the status alone
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return new ApiProblem(
    response.status,
    str(body.code) ?? str(body.error) ?? `http_${response.status}`,
    str(body.detail) ?? str(body.error_description) ?? (response.statusText || "request failed"),
    str(body.requestId),
    Array.isArray(body.errors) ? (body.errors as { path: string; message: string }[]) : undefined,
  );
}

/** Any thrown value as an ApiProblem, so every error state can show a detail and a code. */
export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiProblem(0, "network_error", `could not reach the server (${message})`);
}
