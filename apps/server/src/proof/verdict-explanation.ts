import { findHardwareProfile, type OwnerVerificationEvent, type VerificationReason } from "@ignis/protocol";

/** The stored figures of one decided check that an owner's explanation is built from. */
export interface DecidedCheck {
  readonly decidedAt: Date;
  readonly outcome: "pass" | "fail" | "timeout";
  readonly reason: string | null;
  readonly profile: string;
  readonly gpuCount: number;
  readonly expectedMs: number;
  readonly deadlineMs: number;
  readonly rttMs: number;
  readonly commitLatencyMs: number | null;
  readonly rowsChecked: number | null;
  readonly revealRows: number;
  /** Bytes of the memory check's buffer; null when the check had no memory phase. */
  readonly vramBytes: number | null;
  /** True when the rows came in time but the memory phase's roots did not. */
  readonly memoryLate?: boolean;
}

/** The owner's view of one decided check: outcome, and for a failure its code and what it means. */
export function explainCheck(check: DecidedCheck): OwnerVerificationEvent {
  return {
    at: check.decidedAt.toISOString(),
    outcome: check.outcome,
    reason: check.outcome === "pass" ? null : explainFailure(check),
  };
}

const ms = (value: number) => `${Math.round(value).toLocaleString("en-US")} ms`;

function mib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Plain words for a failed or timed-out check, from the figures the server measured itself. Written for the
 * owner: what was measured, what the claimed hardware does, and what to do; never seeds, rows or other devices.
 */
export function explainFailure(check: DecidedCheck): VerificationReason {
  const profile = findHardwareProfile(check.profile);
  const claim = `${check.gpuCount > 1 ? `${check.gpuCount}× ` : ""}${profile?.model ?? check.profile}`;
  const code = check.reason ?? (check.outcome === "timeout" ? "no_answer" : "failed");
  const timing = `A correct ${claim} needs about ${ms(check.expectedMs)}; the deadline was ${ms(check.deadlineMs)}, which includes ${ms(Math.min(check.rttMs, check.deadlineMs))} for the network.`;
  const checked = check.rowsChecked ?? 0;
  const memory =
    check.vramBytes === null
      ? `the ${profile ? `${profile.vramGb} GB per GPU` : "memory"} it claims`
      : `a ${mib(check.vramBytes)} buffer, the memory it claims${profile?.simulated ? " (scaled down for a simulated profile)" : ""}`;
  const detail = ((): string => {
    switch (code) {
      case "commit_late":
        if (check.memoryLate)
          return `The device committed its result in time, but the roots of the memory check (a buffer as large as ${profile ? `the ${profile.vramGb} GB per GPU` : "the memory"} it claims) came after that check's deadline. A card with less memory than it claims needs longer to rebuild what it does not hold. Make sure no other program holds GPU memory or CPU time during checks, and that the profile matches the card's memory.`;
        return `${check.commitLatencyMs === null ? `The device gave no answer within ${ms(check.deadlineMs)}.` : `The device answered after ${ms(check.commitLatencyMs)}.`} ${timing} Make sure the GPU is not busy with other work or throttled, that the worker runs the GPU prover and not the CPU one, and that the profile and GPU count match the machine.`;
      case "host_stall":
        return `${check.commitLatencyMs === null ? `The device gave no answer within ${ms(check.deadlineMs)}` : `The device answered after ${ms(check.commitLatencyMs)}`}, but its machine (or the server) was stalled meanwhile: the worker's connection stopped answering pings. This does not count as a failed check; the device is checked again shortly. If it repeats, look for memory pressure (swapping), long pauses or other programs keeping the machine busy.`;
      case "speed_short":
        return `Several checks in a row came in late while the device's connection stayed healthy, so it computes slower than the ${claim} it claims. ${timing} Enroll the device with the profile and GPU count it really has.`;
      case "vram_short":
        return `The device was asked to hold ${memory} and to answer random reads from it; ${checked} of the checked reads were right before one was wrong (or the reads came too late). A card with less memory than it claims fails this. Enroll the device with the profile that matches its memory, and make sure no other program holds GPU memory during checks.`;
      case "wrong_row":
        return `The device committed to a result, but ${checked > 0 ? `after ${checked} correct rows ` : ""}one of the rows it opened is not the product a ${claim} computes. Update the worker; if this repeats, the GPU or its driver may be faulty, or the device is not the hardware it claims.`;
      case "bad_proof":
        return `A row the device opened does not match the result it had committed to before (${checked} rows matched before that one). An honest worker never does this: update the worker and check that nothing else answers with this device's key.`;
      case "malformed_reveal":
        return "The device's answer was not in the form the protocol requires (wrong rows, or values out of range). Update the worker to the current release.";
      case "wrong_challenge":
        return "The device answered a different check than the one it was asked. Update the worker; if it repeats, check that only one machine runs with this device's key.";
      case "reveal_late":
        return "The device committed in time but did not send the rows it was asked to open within 30 seconds. Check the machine's network connection and that the worker keeps running.";
      case "session_closed":
        return "The worker's connection closed while a check was running. Keep the worker connected; a check that is walked away from counts like a late answer.";
      case "round_absent":
        return "This device was online when a group check began (its owner's devices, or those at its address, checked together) and its connection was gone when its part was due. That counts like a check walked away from: one GPU could otherwise pass for two devices by taking one offline while the other is checked. Keep the worker connected; the device is checked again with its group when it is back.";
      case "no_answer":
        return `The device did not answer within ${ms(check.deadlineMs)}. Check that the worker is running and connected.`;
      default:
        return `The check did not pass (${code}). Update the worker to the current release; if it repeats, contact the operator.`;
    }
  })();
  return { code, detail };
}
