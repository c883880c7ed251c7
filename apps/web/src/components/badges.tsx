/** A device status as a coloured badge (the text is the status itself). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** A verification state as a badge. */
export function VerificationBadge({ verification }: { verification: string }) {
  const icon = verification === "verified" ? "✓ " : verification === "failed" ? "✗ " : "";
  return <span className={`badge verification-${verification}`}>{icon + verification}</span>;
}

/** Any other lifecycle state (clusters, jobs, alerts, epochs). */
export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}
