import type { SimSummary } from "./run-sim.js";
import type { SimVerdict } from "./sim-verdict.js";

/** Problem lines printed at most; --json carries them all. */
const LISTED = 20;

const PROBLEM_WORDS = {
  never_online: "never came online",
  quarantined: "quarantined",
  failed: "failed verification",
  unknown_to_server: "unknown to the server",
} as const;

/** The verdict in lines: PASS, or FAIL with each honest device's problem and cause. */
export function formatVerdict(v: SimVerdict | undefined): string[] {
  if (!v) return ["verdict: not judged (the server's view could not be read); exit 1"];
  if (v.ok)
    return [
      "verdict: PASS (every honest device came online, none failed or was quarantined; every counterfeit caught)",
    ];
  const counts = new Map<string, number>();
  for (const p of v.honestProblems) counts.set(p.problem, (counts.get(p.problem) ?? 0) + 1);
  const what = [...counts].map(
    ([problem, n]) => `${n} ${PROBLEM_WORDS[problem as keyof typeof PROBLEM_WORDS]}`,
  );
  if (v.honestNotEnrolled) what.push(`${v.honestNotEnrolled} never enrolled`);
  if (v.counterfeitMissed.length) what.push(`${v.counterfeitMissed.length} counterfeit not caught`);
  const lines = [`verdict: FAIL (${what.join(", ")})`];
  for (const p of v.honestProblems.slice(0, LISTED)) {
    lines.push(`  honest ${p.deviceId} (#${p.index}) ${PROBLEM_WORDS[p.problem]}: ${p.cause}`);
  }
  if (v.honestProblems.length > LISTED)
    lines.push(`  ... ${v.honestProblems.length - LISTED} more (--json lists all)`);
  for (const id of v.counterfeitMissed.slice(0, LISTED)) {
    lines.push(
      `  counterfeit ${id} not caught (neither failed nor quarantined; a longer --duration gives its challenges time)`,
    );
  }
  return lines;
}

/** The summary a person reads at the end of `ignis sim`. */
export function formatSimSummary(s: SimSummary): string {
  const f = s.fleet;
  const lines = [
    `simulated ${s.devices} × ${s.profile} (${s.counterfeit} counterfeit, ${s.overclaim}× slower than claimed) for ${s.seconds} s in ${s.processes} process${s.processes === 1 ? "" : "es"}`,
    `  supplier          ${s.supplierUserId}${s.supplierCreated ? " (created for this run)" : ""}`,
    `  enrolled          ${f.enrolled}/${f.target}${f.enrollFailures ? ` (${f.enrollFailures} failed)` : ""}`,
    `  devices online    ${f.online}`,
  ];
  if ("error" in s.server) {
    lines.push(`  server view       unavailable: ${s.server.error}`);
  } else {
    const v = s.server;
    lines.push(
      `  verified          ${v.verified}`,
      `  failed proofs     ${v.failed}`,
      `  quarantined       ${v.quarantined}`,
      `  counterfeit caught ${v.counterfeitCaught}/${s.counterfeit}`,
    );
  }
  const reasons = (tally: Record<string, number>) =>
    Object.entries(tally)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ") || "none";
  lines.push(
    `  failed verdicts   honest: ${reasons(s.proofFailures.honest)}; counterfeit: ${reasons(s.proofFailures.counterfeit)}`,
    `  heartbeats sent   ${f.heartbeats}`,
    `  sessions opened   ${f.sessions} (${f.churns} churned)`,
    `  stopped by server ${f.stoppedByServer}`,
    `  errors            ${f.errors + f.enrollFailures}${f.lastError ? ` (last: ${f.lastError})` : ""}`,
  );
  lines.push(...formatVerdict(s.verdict));
  return `${lines.join("\n")}\n`;
}
