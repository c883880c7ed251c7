import type { AlertView, ChallengeView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import type { FleetDevice } from "./fleet.js";
import { isCaught, type ServerDeviceState } from "./fleet-status.js";

/** What went wrong with one honest device of the run. */
export interface HonestProblem {
  deviceId: string;
  /** Its index in the fleet (its state folder is `device-<index>`). */
  index: number;
  problem: "never_online" | "quarantined" | "failed" | "unknown_to_server";
  /** Why, in plain words: the proof verdict the device was told, the server's challenge record, or an alert. */
  cause: string;
}

/** Whether the run was honest: every honest device online and trusted, every counterfeit caught. */
export interface SimVerdict {
  ok: boolean;
  /** Honest devices that never enrolled (the fleet's last error says why). */
  honestNotEnrolled: number;
  honestProblems: HonestProblem[];
  /** Counterfeit devices the server neither failed nor quarantined. */
  counterfeitMissed: string[];
}

/** Problems looked up in detail on the server (an admin key only): enough to see the pattern, bounded. */
const DETAILED = 20;

/**
 * Judges a run from the server's own view of each device (read while the fleet was still connected) and what
 * each device saw: an honest device that never came online, failed its proof or was quarantined makes the run
 * fail, and so does a counterfeit the server did not catch.
 */
export function judgeRun(input: {
  honestTarget: number;
  devices: readonly FleetDevice[];
  states: ReadonlyMap<string, ServerDeviceState>;
}): SimVerdict {
  const honest = input.devices.filter((d) => !d.counterfeit);
  const problems: HonestProblem[] = [];
  for (const d of honest) {
    const state = input.states.get(d.deviceId);
    const base = { deviceId: d.deviceId, index: d.index };
    const told = d.proofFailure
      ? `its proof failed (${d.proofFailure.reason})${d.proofFailure.quarantined ? " and the server quarantined it" : ""}`
      : undefined;
    if (!state) {
      problems.push({
        ...base,
        problem: "unknown_to_server",
        cause: "the supplier's device list does not have it",
      });
    } else if (state.status === "quarantined") {
      problems.push({ ...base, problem: "quarantined", cause: told ?? "quarantined without a failed proof" });
    } else if (state.verification === "failed") {
      problems.push({ ...base, problem: "failed", cause: told ?? "its verification failed" });
    } else if (!d.everOnline) {
      problems.push({
        ...base,
        problem: "never_online",
        cause: d.lastError ? `last error: ${d.lastError}` : "no session was ever authenticated",
      });
    }
  }
  const counterfeitMissed = input.devices
    .filter((d) => d.counterfeit)
    .filter((d) => {
      const state = input.states.get(d.deviceId);
      return !state || !isCaught(state);
    })
    .map((d) => d.deviceId);
  const honestNotEnrolled = Math.max(0, input.honestTarget - honest.length);
  return {
    ok: honestNotEnrolled === 0 && problems.length === 0 && counterfeitMissed.length === 0,
    honestNotEnrolled,
    honestProblems: problems,
    counterfeitMissed,
  };
}

/**
 * Adds the server's own account to the first problems, when the key is an admin's: the failed challenge's
 * reason, detail and timing, or the security alert that quarantined the device. Without admin rights (a
 * supplier's key) the causes stay as the devices were told them.
 */
export async function explainProblems(server: string, adminKey: string, verdict: SimVerdict): Promise<void> {
  const detailed = verdict.honestProblems.filter((p) => p.problem !== "never_online").slice(0, DETAILED);
  if (detailed.length === 0) return;
  const alerts = await quarantineAlerts(server, adminKey).catch(() => new Map<string, AlertView>());
  for (const problem of detailed) {
    const challenge = await lastFailedChallenge(server, adminKey, problem.deviceId).catch(() => undefined);
    const alert = alerts.get(problem.deviceId);
    const parts = [problem.cause];
    if (challenge) parts.push(describeChallenge(challenge));
    if (alert && !challenge) parts.push(`security alert ${alert.rule} (${alert.id}): ${alert.subject}`);
    problem.cause = parts.join("; ");
  }
}

/** One challenge's failure in words: reason, detail, and its timing against the deadline. */
export function describeChallenge(c: ChallengeView): string {
  const timing =
    c.commitLatencyMs === null
      ? `no commit within the ${c.deadlineMs} ms deadline`
      : `commit after ${c.commitLatencyMs} ms, deadline ${c.deadlineMs} ms`;
  return `challenge ${c.id} (${c.trigger}): ${c.reason ?? c.outcome}${c.detail ? ` (${c.detail})` : ""}, ${timing}`;
}

async function lastFailedChallenge(
  server: string,
  adminKey: string,
  deviceId: string,
): Promise<ChallengeView | undefined> {
  const page = await apiRequest<{ items: ChallengeView[] }>(
    server,
    `/v1/admin/devices/${encodeURIComponent(deviceId)}/challenges?limit=20`,
    { token: adminKey, retryBudgetMs: 10_000 },
  );
  return page.items.find((c) => c.outcome === "fail" || c.outcome === "timeout");
}

/** The newest alerts that quarantined a device, by device id (a few pages: the run's own are the newest). */
async function quarantineAlerts(server: string, adminKey: string): Promise<Map<string, AlertView>> {
  const byDevice = new Map<string, AlertView>();
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const body = await apiRequest<{ items: AlertView[]; nextCursor: string | null }>(
      server,
      `/v1/admin/alerts?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      { token: adminKey, retryBudgetMs: 10_000 },
    );
    for (const alert of body.items) {
      const c = alert.containment;
      if (c.kind === "quarantine_device" && !byDevice.has(c.deviceId)) byDevice.set(c.deviceId, alert);
    }
    if (!body.nextCursor) break;
    cursor = body.nextCursor;
  }
  return byDevice;
}
