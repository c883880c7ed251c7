import { ApiError, ServerUnreachableError } from "./api-client.js";
import { NotSignedInError } from "./auth/resolve-credential.js";

/** What to do about an API refusal, by status: the part of the line after the server's own words. */
const API_HINTS: Record<number, string> = {
  401: "check --api-key / IGNIS_API_KEY, or run `ignis login --server URL`",
  403: "this credential lacks the role for it; ask an admin (ignis-server invite --roles ...)",
  404: "check the id (list yours with `ignis clusters ls` or GET /v1/devices)",
  409: "the object is not in a state that allows it; look at it with `show` first",
  429: "the server is rate limiting this credential; try again in a minute",
  503: "the server is busy or restarting; try again shortly",
};

/**
 * One line for a failed command (exit 1): what went wrong and what to do. Errors that already say what to do
 * (not signed in, server unreachable) pass through; API refusals get a hint by status.
 */
export function failureLine(error: unknown): string {
  if (error instanceof NotSignedInError || error instanceof ServerUnreachableError) return error.message;
  if (error instanceof ApiError) {
    const hint =
      API_HINTS[error.status] ??
      (error.status >= 500 ? "the server failed; try again, and see its log if it persists" : undefined);
    return `${error.code}: ${error.message}${hint ? ` (${hint})` : ""}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!;
}
