import { bearer, currentSession, endSession } from "../auth/session";
import { ApiProblem, asProblem, problemFrom } from "./problem";

/** Options of one API call. */
export interface CallOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * Calls the Ignis API with the session's Bearer credential; answers the parsed JSON or throws an ApiProblem
 * carrying the problem+json detail and code. A 401 on a signed-in call ends the session.
 */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const authorization = await bearer();
  const headers: Record<string, string> = { accept: "application/json" };
  if (authorization) headers.authorization = authorization;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      credentials: "omit",
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw asProblem(error);
  }
  if (response.status === 204) return undefined as T;
  if (!response.ok) {
    const problem = await problemFrom(response);
    if (response.status === 401 && authorization && currentSession().credential) {
      endSession(`Signed out: ${problem.detail} (${problem.code}).`);
    }
    throw problem;
  }
  return (await response.json()) as T;
}

/** Builds a query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : "";
}

export { ApiProblem };
