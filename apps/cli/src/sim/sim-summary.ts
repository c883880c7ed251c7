import type { SimSummary } from "./run-sim.js";

/** The summary a person reads at the end of `ignis sim`. */
export function formatSimSummary(s: SimSummary): string {
  const f = s.fleet;
  const lines = [
    `simulated ${s.devices} × ${s.profile} (${s.counterfeit} counterfeit) for ${s.seconds} s in ${s.processes} process${s.processes === 1 ? "" : "es"}`,
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
  lines.push(
    `  heartbeats sent   ${f.heartbeats}`,
    `  sessions opened   ${f.sessions} (${f.churns} churned)`,
    `  stopped by server ${f.stoppedByServer}`,
    `  errors            ${f.errors + f.enrollFailures}${f.lastError ? ` (last: ${f.lastError})` : ""}`,
  );
  return `${lines.join("\n")}\n`;
}
