import type { DoctorCheck } from "./doctor-check.js";

/** The checks as a table for a terminal: one line per check, its fix on the line below a problem. */
export function doctorTable(checks: readonly DoctorCheck[]): string {
  const idWidth = Math.max(5, ...checks.map((c) => c.id.length));
  const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - s.length));
  const lines = [`${pad("CHECK", idWidth)}  STATUS  DETAIL`];
  for (const c of checks) {
    lines.push(
      `${pad(c.id, idWidth)}  ${pad(c.status === "pass" ? "pass" : c.status.toUpperCase(), 6)}  ${c.detail}`,
    );
    if (c.fix) lines.push(`${pad("", idWidth)}  ${pad("", 6)}  fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === "fail").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  lines.push(
    failed > 0
      ? `${failed} required check${failed > 1 ? "s" : ""} failed: this device cannot work until fixed`
      : warned > 0
        ? `ready, with ${warned} warning${warned > 1 ? "s" : ""}`
        : "all checks passed",
  );
  return `${lines.join("\n")}\n`;
}
