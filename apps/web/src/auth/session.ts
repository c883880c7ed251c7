import { useSyncExternalStore } from "react";
import { refreshTokens, type TokenSet } from "./oidc-client";

/** Who the server says the caller is (`GET /v1/me`). */
export interface Me {
  id: string;
  email: string | null;
  roles: ("supplier" | "customer" | "admin")[];
  credential: "api_key" | "token";
}

/** How the browser proves who it is: OIDC tokens, or an API key pasted by the user. */
export type Credential = { kind: "oidc"; tokens: TokenSet } | { kind: "api-key"; key: string };

/** The signed-in state shared by every page. */
export interface Session {
  credential: Credential | null;
  me: Me | null;
  /** Why the last session ended, shown once on the sign-in page. */
  notice: string | null;
}

// Tokens live in memory and in sessionStorage (this tab only, gone when it closes), and travel only as a Bearer
// header: no cookie carries them, so no other site can make the browser send them.
const STORAGE_KEY = "ignis.session";
const listeners = new Set<() => void>();
let session: Session = load();

function load(): Session {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null") as Session | null;
    if (stored?.credential) return { credential: stored.credential, me: stored.me ?? null, notice: null };
  } catch {
    // a damaged entry is the same as none
  }
  return { credential: null, me: null, notice: null };
}

function save(next: Session): void {
  session = next;
  if (next.credential) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ credential: next.credential, me: next.me }));
  } else sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

/** The current session (outside React). */
export function currentSession(): Session {
  return session;
}

/** The current session, re-rendering when it changes. */
export function useSession(): Session {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => session,
  );
}

/** Starts a session with a credential; `me` is filled by the caller once the server answers. */
export function startSession(credential: Credential, me: Me | null = null): void {
  save({ credential, me, notice: null });
}

/** Records who the caller is. */
export function setMe(me: Me): void {
  save({ ...session, me });
}

/** Ends the session, with an optional reason for the sign-in page. */
export function endSession(notice: string | null = null): void {
  save({ credential: null, me: null, notice });
}

let refreshing: Promise<TokenSet> | undefined;

/** The Authorization header value, refreshing an access token about to expire when a refresh token exists. */
export async function bearer(): Promise<string | undefined> {
  const credential = session.credential;
  if (!credential) return undefined;
  if (credential.kind === "api-key") return `Bearer ${credential.key}`;
  let tokens = credential.tokens;
  if (tokens.expiresAt - Date.now() < 30_000 && tokens.refreshToken) {
    refreshing ??= refreshTokens(tokens).finally(() => {
      refreshing = undefined;
    });
    try {
      tokens = await refreshing;
      save({ ...session, credential: { kind: "oidc", tokens } });
    } catch {
      endSession("Your session expired. Sign in again.");
      return undefined;
    }
  }
  return `Bearer ${tokens.accessToken}`;
}

/** True when the signed-in user holds the role. */
export function hasRole(s: Session, role: Me["roles"][number]): boolean {
  return s.me?.roles.includes(role) ?? false;
}
