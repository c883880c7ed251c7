import type { DeviceView, OwnerDeviceMemory } from "@ignis/protocol";
import { useState } from "react";
import { dateTime, memoryText } from "../lib/format";
import { useApi } from "../lib/use-api";
import { ErrorState, Loading } from "./states";

/**
 * The owner's proof-of-GPU checks of one device, read from its full record when opened: each check's outcome
 * and, for a failure, its code and the plain-words explanation of what was measured and what to do.
 */
export function VerificationChecks({ deviceId }: { deviceId: string }) {
  const [open, setOpen] = useState(false);
  const record = useApi<DeviceView>(open ? `/v1/devices/${deviceId}` : null, { pollMs: 15_000 });
  const history = record.data?.verificationHistory ?? [];
  return (
    <details className="checks" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary data-testid="verification-checks-toggle">checks</summary>
      {record.error ? <ErrorState error={record.error} onRetry={record.reload} /> : null}
      {open && !record.data && !record.error ? <Loading what="Loading the checks" /> : null}
      {record.data?.memory ? <MemoryProof memory={record.data.memory} /> : null}
      {record.data && history.length === 0 ? <p className="muted">No check decided yet.</p> : null}
      {history.length > 0 ? (
        <ol className="history" data-testid="verification-checks">
          {history.map((check) => (
            <li key={`${check.at}-${check.outcome}`}>
              <span
                className={`badge ${check.outcome === "pass" ? "verification-verified" : "verification-failed"}`}
              >
                {check.outcome === "pass" ? "✓ pass" : check.outcome === "timeout" ? "✗ timeout" : "✗ fail"}
              </span>{" "}
              <time dateTime={check.at}>{dateTime(check.at)}</time>
              {check.reason ? (
                <p className="check-reason">
                  <code>{check.reason.code}</code> {check.reason.detail}
                </p>
              ) : null}
            </li>
          ))}
        </ol>
      ) : null}
    </details>
  );
}

/** Whether the device's claimed memory is proven and, when not, why and what to do. */
function MemoryProof({ memory }: { memory: OwnerDeviceMemory }) {
  return (
    <p className={memory.proven ? "muted" : "notice warn"} data-testid="memory-proof">
      Memory: {memoryText(memory)}
      {memory.proven && memory.provenAt ? ` (checked ${dateTime(memory.provenAt)})` : ""}.{" "}
      {memory.proven
        ? null
        : memory.workerProvesMemory === false
          ? "This worker's prover has no memory check (the CUDA prover lacks it today), so the device is verified on speed alone; customers who ask for proven memory do not hire it."
          : memory.workerProvesMemory === null
            ? "It is checked when the worker connects, if its prover has a memory check."
            : "Its next passed check, which includes the memory phase, proves it."}
    </p>
  );
}
