import { useEffect, useState } from "react";
import { api } from "../lib/api";
import { relative } from "../lib/format";
import { useAction } from "../lib/use-api";
import { CopyButton } from "./copy-button";
import { ErrorState } from "./states";

interface EnrollmentCode {
  code: string;
  expiresAt: string;
}

/** Creates a single-use enrollment code and shows the exact worker command to run with it. */
export function EnrollPanel({ onEnrolled }: { onEnrolled: () => void }) {
  const [code, setCode] = useState<EnrollmentCode>();
  const [, setNow] = useState(Date.now());
  const create = useAction(() => api<EnrollmentCode>("/v1/enrollment-codes", { method: "POST", body: {} }));
  const expired = code ? Date.parse(code.expiresAt) <= Date.now() : false;

  useEffect(() => {
    if (!code) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
      onEnrolled();
    }, 5000);
    return () => window.clearInterval(timer);
  }, [code, onEnrolled]);

  const command = code
    ? `ignis worker enroll --server ${window.location.origin} --code ${code.code} --profile sim-a100`
    : "";
  return (
    <div className="panel">
      <h2>Enroll a device</h2>
      <p className="muted">
        A code works once and expires after a few minutes. The device makes its own key; nothing secret leaves
        it.
      </p>
      <button
        type="button"
        className="button primary"
        disabled={create.pending}
        data-testid="create-enrollment-code"
        onClick={async () => {
          const created = await create.perform();
          if (created) setCode(created);
        }}
      >
        {create.pending ? "Creating…" : code ? "Create another code" : "Create enrollment code"}
      </button>
      {create.error ? <ErrorState error={create.error} title="Could not create a code" /> : null}
      {code ? (
        <div className={`enroll-code${expired ? " expired" : ""}`}>
          <p>
            Code <code data-testid="enrollment-code">{code.code}</code>{" "}
            <span className="muted small">{expired ? "expired" : `expires ${relative(code.expiresAt)}`}</span>
          </p>
          <p>
            Run on the machine (drop <code>--profile sim-a100</code> on real hardware):
          </p>
          <div className="command">
            <pre data-testid="enroll-command">{command}</pre>
            <CopyButton text={command} label="Copy command" />
          </div>
          <p className="muted small">
            Then start it with <code>ignis worker run</code>; it appears below as soon as it connects.
          </p>
        </div>
      ) : null}
    </div>
  );
}
