/** The checks `ignis doctor` runs, by id (fixed names: scripts read them from `--json`). */
export const CHECK_IDS = ["server", "clock", "key", "gpu", "sandbox", "network"] as const;
/** One of {@link CHECK_IDS}. */
export type CheckId = (typeof CHECK_IDS)[number];

/** How a check came out: `fail` only for a required check whose problem stops the device from working. */
export type CheckStatus = "pass" | "warn" | "fail";

/** The outcome of one check: what was found and, for a problem, what to do about it in plain words. */
export interface DoctorCheck {
  id: CheckId;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** A passing check. */
export function pass(id: CheckId, detail: string): DoctorCheck {
  return { id, status: "pass", detail };
}

/** A check with a problem that the device can live with. */
export function warn(id: CheckId, detail: string, fix?: string): DoctorCheck {
  return fix ? { id, status: "warn", detail, fix } : { id, status: "warn", detail };
}

/** A required check that failed, with its fix. */
export function fail(id: CheckId, detail: string, fix: string): DoctorCheck {
  return { id, status: "fail", detail, fix };
}

/** The exit code of `ignis doctor`: 1 when a required check failed, else 0 (warnings included). */
export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}
