import type { ReactNode } from "react";
import type { ApiProblem } from "../lib/problem";

/** A loading placeholder that announces itself to screen readers. */
export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

/** An error from the API: its detail and its stable code, with the request id for support. */
export function ErrorState({
  error,
  title,
  onRetry,
}: {
  error: ApiProblem;
  title?: string;
  onRetry?: () => void;
}) {
  const missing = error.isMissingRoute;
  return (
    <div className="state state-error" role="alert">
      <strong>{title ?? (missing ? "Not available on this server yet" : "Something went wrong")}</strong>
      <p>
        {error.detail} <code className="code">{error.code}</code>
        {error.status ? <span className="muted"> (HTTP {error.status})</span> : null}
      </p>
      {error.errors?.length ? (
        <ul className="field-errors">
          {error.errors.map((e) => (
            <li key={`${e.path}:${e.message}`}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {error.requestId ? <p className="muted small">request {error.requestId}</p> : null}
      {onRetry ? (
        <button type="button" className="button secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Nothing to show, said plainly, with an optional next step. */
export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

/** Renders the loading, error or empty state of a resource, or its content. */
export function ResourceView<T>(props: {
  data: T | undefined;
  error: ApiProblem | undefined;
  loading: boolean;
  what?: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  onRetry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (props.data === undefined) {
    if (props.error) return <ErrorState error={props.error} onRetry={props.onRetry} />;
    return <Loading what={props.what ?? "Loading"} />;
  }
  return (
    <>
      {props.error ? <ErrorState error={props.error} title="Could not refresh" /> : null}
      {props.isEmpty?.(props.data) ? (
        <Empty>{props.empty ?? "Nothing here yet."}</Empty>
      ) : (
        props.children(props.data)
      )}
    </>
  );
}
