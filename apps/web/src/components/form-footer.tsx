import type { ReactNode } from "react";
import type { ApiProblem } from "../lib/problem";
import { ErrorState } from "./states";

/** The submit button of a `form-grid` form and, when the last attempt failed, why. */
export function FormFooter({
  label,
  pending,
  disabled = false,
  error,
  errorTitle,
}: {
  label: ReactNode;
  pending: boolean;
  /** Not ready to submit yet (a required choice is missing). */
  disabled?: boolean;
  error: ApiProblem | undefined;
  errorTitle: string;
}) {
  return (
    <>
      <div className="wide">
        <button type="submit" className="button primary" disabled={pending || disabled}>
          {label}
        </button>
      </div>
      {error ? (
        <div className="wide">
          <ErrorState error={error} title={errorTitle} />
        </div>
      ) : null}
    </>
  );
}
