import { type FormEvent, useEffect, useRef, useState } from "react";
import { beginSignIn, completeSignIn } from "../auth/oidc-client";
import { endSession, type Me, setMe, startSession, useSession } from "../auth/session";
import { ErrorState, Loading } from "../components/states";
import { api } from "../lib/api";
import { type ApiProblem, asProblem } from "../lib/problem";
import { navigate, useLocation } from "../lib/router";

/** Sign in through the OIDC provider (code + PKCE), or with an API key for automation accounts. */
export function SignInPage() {
  const session = useSession();
  const { query } = useLocation();
  const returnTo = query.get("next") ?? "/";
  const [error, setError] = useState<ApiProblem>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState("");

  const signIn = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await beginSignIn(returnTo.startsWith("/") ? returnTo : "/");
    } catch (e) {
      setError(asProblem(e));
      setBusy(false);
    }
  };

  const signInWithKey = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    startSession({ kind: "api-key", key: key.trim() });
    try {
      setMe(await api<Me>("/v1/me"));
      navigate(returnTo, { replace: true });
    } catch (e) {
      endSession();
      setError(asProblem(e));
    }
  };

  return (
    <section className="page narrow">
      <header className="page-header">
        <h1>Sign in</h1>
      </header>
      {session.notice ? <p className="notice">{session.notice}</p> : null}
      {error ? <ErrorState error={error} title="Sign-in failed" /> : null}
      <div className="panel">
        <p>Suppliers, customers and admins sign in with their Ignis account.</p>
        <button
          type="button"
          className="button primary"
          onClick={signIn}
          disabled={busy}
          data-testid="sign-in"
        >
          {busy ? "Redirecting…" : "Sign in with Ignis"}
        </button>
      </div>
      <details className="panel">
        <summary>Use an API key instead</summary>
        <form onSubmit={signInWithKey} className="stack">
          <label>
            API key
            <input
              type="password"
              value={key}
              onChange={(e) => setKey(e.target.value)}
              placeholder="ign_…"
              autoComplete="off"
              required
            />
          </label>
          <p className="muted small">The key stays in this tab only and is sent as a Bearer header.</p>
          <button type="submit" className="button secondary">
            Use key
          </button>
        </form>
      </details>
    </section>
  );
}

/** The redirect URI: redeems the authorization code, learns who signed in, and goes back where they were. */
export function CallbackPage() {
  const { query } = useLocation();
  const [error, setError] = useState<ApiProblem>();
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    (async () => {
      try {
        const { tokens, returnTo } = await completeSignIn(query);
        startSession({ kind: "oidc", tokens });
        setMe(await api<Me>("/v1/me"));
        navigate(returnTo, { replace: true });
      } catch (e) {
        endSession();
        setError(asProblem(e));
      }
    })();
  }, [query]);
  return (
    <section className="page narrow">
      {error ? (
        <>
          <ErrorState error={error} title="Sign-in did not complete" />
          <button type="button" className="button primary" onClick={() => navigate("/signin")}>
            Start again
          </button>
        </>
      ) : (
        <Loading what="Signing you in" />
      )}
    </section>
  );
}
