/** The origins a browser request may come from without being cross-site. */
export interface OriginPolicy {
  /** This server's own origins: the public URL's and the one the request was addressed to. */
  selfOrigins: readonly string[];
  /** `IGNIS_CORS_ORIGINS`: other origins allowed to call the API from a browser; `*` allows any. */
  corsOrigins: readonly string[];
}

/** The request facts the decisions need (plain strings, no transport types). */
export interface BrowserRequest {
  method: string;
  origin: string | undefined;
  referer: string | undefined;
  hasCookie: boolean;
  /** The preflight's `Access-Control-Request-Method`, when this is a CORS preflight. */
  preflightMethod: string | undefined;
}

/** What CORS headers to send: none (same-origin or refused), an exact origin, or `*`. */
export interface CorsDecision {
  allowOrigin: string | null;
  preflight: boolean;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function originOf(value: string | undefined): string | null {
  if (!value || value === "null") return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/**
 * Strict CORS: by default only same-origin pages may call the API. A listed origin gets exactly itself back,
 * never with `Access-Control-Allow-Credentials` (the API takes bearer tokens, never cookies), so a wildcard
 * can never be combined with credentials.
 */
export function corsDecision(request: BrowserRequest, policy: OriginPolicy): CorsDecision {
  const preflight = request.method === "OPTIONS" && request.preflightMethod !== undefined;
  const origin = originOf(request.origin);
  if (!origin || policy.selfOrigins.includes(origin)) return { allowOrigin: null, preflight };
  if (policy.corsOrigins.includes(origin)) return { allowOrigin: origin, preflight };
  if (policy.corsOrigins.includes("*")) return { allowOrigin: "*", preflight };
  return { allowOrigin: null, preflight };
}

/**
 * CSRF: a state-changing request that carries a cookie (the embedded IdP's login and consent pages) must come
 * from one of our own origins. Browsers always send `Origin` on cross-site POSTs; when it is missing we fall
 * back to `Referer`, and a request with neither is let through (non-browser clients, SameSite=Lax cookies).
 * Requests without cookies cannot ride a session, since API credentials are bearer headers only.
 */
export function isCrossSiteWrite(request: BrowserRequest, policy: OriginPolicy): boolean {
  if (SAFE_METHODS.has(request.method) || !request.hasCookie) return false;
  const origin = originOf(request.origin) ?? originOf(request.referer);
  if (request.origin === "null") return true;
  if (!origin) return false;
  return !policy.selfOrigins.includes(origin);
}
