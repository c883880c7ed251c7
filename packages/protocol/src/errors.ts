/** Every stable error code a client may see; clients switch on these, never on messages. */
export const ignisErrorCodes = [
  // request shape
  "bad_request",
  "validation_failed",
  "unknown_field",
  "payload_too_large",
  "malformed_json",
  "uri_too_long",
  "headers_too_large",
  "request_timeout",
  "not_found",
  "method_not_allowed",
  "conflict",
  // authentication and authorization
  "unauthenticated",
  "invalid_token",
  "token_expired",
  "invalid_api_key",
  "api_key_revoked",
  "api_key_expired",
  "api_key_suspended",
  "account_suspended",
  "forbidden",
  "insufficient_scope",
  "writes_frozen",
  "rate_limited",
  "csrf_failed",
  // devices and enrollment
  "invalid_enrollment_code",
  "enrollment_code_used",
  "enrollment_code_expired",
  "invalid_signature",
  "device_revoked",
  "device_quarantined",
  "handshake_failed",
  "session_replaced",
  "device_conflict",
  "key_rotation_failed",
  // worker versions and upgrades
  "protocol_unsupported",
  "invalid_release",
  "invalid_release_signature",
  "release_exists",
  // proof of GPU
  "device_offline",
  "device_hired",
  // rewards
  "epoch_not_found",
  "epoch_not_closed",
  "proof_not_found",
  // marketplace
  "insufficient_credit",
  "no_capacity",
  "unknown_gpu_model",
  "cluster_not_cancellable",
  "invalid_count",
  "invalid_hours",
  "invalid_amount",
  "invalid_price",
  "job_spec_too_large",
  "invalid_env_name",
  "invalid_env_value",
  "reserved_env_name",
  "invalid_image",
  "invalid_job_args",
  "job_privileges_refused",
  // stakes and slashes
  "staking_disabled",
  "insufficient_earnings",
  "stake_not_bonded",
  "appeal_exists",
  // locations (owner-declared countries, cluster country filters)
  "invalid_country",
  // getting into a job (ignis clusters ssh / port-forward)
  "rank_out_of_range",
  "cluster_not_running",
  "invalid_port",
  "worker_outdated",
  "too_many_streams",
  "upgrade_required",
  // cluster networking
  "mesh_unavailable",
  "invalid_tier",
  // infrastructure
  "unavailable",
  /** The server is starting (its port answers before it is ready); retry after Retry-After. */
  "starting",
  /** The server admits worker sessions in turns (admission control) or sheds load; retry after Retry-After. */
  "server_busy",
  "internal",
] as const;

/** A stable, machine-readable error code. */
export type IgnisErrorCode = (typeof ignisErrorCodes)[number];

/** Extra, safe-to-show details attached to an error (field names, limits, retry hints). */
export type IgnisErrorDetails = Record<string, unknown>;

/** The one error type of Ignis: a stable code, a message safe for clients, and a private cause for logs. */
export class IgnisError extends Error {
  override readonly name = "IgnisError";
  readonly code: IgnisErrorCode;
  readonly details: IgnisErrorDetails | undefined;

  constructor(
    code: IgnisErrorCode,
    message: string,
    options: { cause?: unknown; details?: IgnisErrorDetails } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** True when a value is an IgnisError, optionally with one of the given codes. */
export function isIgnisError(value: unknown, ...codes: IgnisErrorCode[]): value is IgnisError {
  return value instanceof IgnisError && (codes.length === 0 || codes.includes(value.code));
}
