import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * CSRF tokens for our server-rendered forms: an HMAC of what the form is bound to (an interaction uid, which
 * the provider's signed interaction cookie must also name; or an invitation token). Stateless, so any replica
 * sharing the data dir's secret can check them.
 */
export interface FormCsrf {
  /** The hidden-field value for a form bound to `binding`. */
  token(purpose: "interaction" | "invite", binding: string): string;
  /** True when `given` is the token for this binding, compared in constant time. */
  check(purpose: "interaction" | "invite", binding: string, given: unknown): boolean;
}

/** Creates the CSRF token scheme from a server secret. */
export function createFormCsrf(secret: Buffer): FormCsrf {
  const token = (purpose: string, binding: string) =>
    createHmac("sha256", secret).update(`${purpose}\0${binding}`).digest("base64url");
  return {
    token,
    check(purpose, binding, given) {
      if (typeof given !== "string") return false;
      const expected = Buffer.from(token(purpose, binding));
      const actual = Buffer.from(given);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}

/** True when a form post comes from our own origin, or from a client that sends no Origin (not a browser). */
export function sameOriginPost(originHeader: string | undefined, publicUrl: string): boolean {
  if (originHeader === undefined) return true;
  return originHeader === new URL(publicUrl).origin;
}
