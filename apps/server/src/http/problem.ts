import { IgnisError, type IgnisErrorCode, type Problem } from "@ignis/protocol";

const STATUS: Record<IgnisErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unknown_field: 400,
  payload_too_large: 413,
  malformed_json: 400,
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  unauthenticated: 401,
  invalid_token: 401,
  token_expired: 401,
  invalid_api_key: 401,
  api_key_revoked: 401,
  api_key_expired: 401,
  api_key_suspended: 401,
  account_suspended: 401,
  forbidden: 403,
  insufficient_scope: 403,
  writes_frozen: 403,
  rate_limited: 429,
  csrf_failed: 403,
  invalid_enrollment_code: 401,
  enrollment_code_used: 401,
  enrollment_code_expired: 401,
  invalid_signature: 401,
  device_revoked: 403,
  device_quarantined: 403,
  handshake_failed: 401,
  session_replaced: 409,
  device_conflict: 409,
  key_rotation_failed: 400,
  protocol_unsupported: 400,
  invalid_release: 400,
  invalid_release_signature: 400,
  release_exists: 409,
  device_offline: 409,
  device_hired: 409,
  epoch_not_found: 404,
  epoch_not_closed: 404,
  proof_not_found: 404,
  insufficient_credit: 402,
  staking_disabled: 409,
  insufficient_earnings: 402,
  stake_not_bonded: 409,
  appeal_exists: 409,
  no_capacity: 409,
  unknown_gpu_model: 400,
  cluster_not_cancellable: 409,
  invalid_count: 400,
  invalid_hours: 400,
  invalid_amount: 400,
  invalid_price: 400,
  invalid_country: 400,
  job_spec_too_large: 400,
  invalid_env_name: 400,
  invalid_env_value: 400,
  reserved_env_name: 400,
  invalid_image: 400,
  invalid_job_args: 400,
  job_privileges_refused: 400,
  rank_out_of_range: 400,
  cluster_not_running: 409,
  invalid_port: 400,
  worker_outdated: 409,
  too_many_streams: 429,
  upgrade_required: 426,
  mesh_unavailable: 409,
  invalid_tier: 400,
  unavailable: 503,
  starting: 503,
  server_busy: 503,
  internal: 500,
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** The HTTP status for an error code; the only place codes meet statuses. */
export function statusForCode(code: IgnisErrorCode): number {
  return STATUS[code];
}

/** Builds the RFC 9457 body for an IgnisError. Internal errors never expose their message. */
export function problemFor(error: IgnisError, requestId: string, instance: string): Problem {
  const status = statusForCode(error.code);
  const detail = status >= 500 && error.code === "internal" ? "an internal error occurred" : error.message;
  return {
    // Details first: a detail named like a core field (`status`, `code`) must never override it.
    ...(error.details ?? {}),
    type: `https://ignis.dev/problems/${error.code.replaceAll("_", "-")}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    instance,
    code: error.code,
    requestId,
  };
}

/** Wraps anything thrown into an IgnisError so the client always gets a stable code. */
export function toIgnisError(error: unknown): IgnisError {
  if (error instanceof IgnisError) return error;
  return new IgnisError("internal", "an internal error occurred", { cause: error });
}
