import { type DoctorCheck, fail, pass, warn } from "./doctor-check.js";
import type { ServerProbe } from "./server-probe.js";

/** Clock skew the worker can live with; beyond it timing-bound proofs and tokens start to go wrong. */
export const CLOCK_WARN_MS = 2_000;
/** Clock skew that fails the check: signed tokens and enrollment codes are refused or expire early. */
export const CLOCK_FAIL_MS = 60_000;

const TIME_SYNC_FIX =
  "turn on time synchronisation: `timedatectl set-ntp true` (or install chrony), then run ignis doctor again";

/** The `server` check: reachable, ready, and which release it runs. */
export function serverCheck(server: string | undefined, probe: ServerProbe | undefined): DoctorCheck {
  if (!server || !probe) {
    return fail(
      "server",
      "no server to check: none given and no device enrolled",
      "pass --server URL (or set IGNIS_SERVER), or enroll with `ignis worker enroll --server URL --code CODE`",
    );
  }
  if (!probe.reachable) {
    return fail(
      "server",
      `cannot reach ${server} (${probe.reason})`,
      `check that ignis-server runs at ${server} and that this machine may reach it (URL, DNS, firewall, proxy)`,
    );
  }
  if (probe.httpStatus === 200 && probe.status === "ok") {
    return pass("server", `${server} answers (release ${probe.version ?? "unknown"})`);
  }
  if (probe.status === "starting") {
    return warn("server", `${server} is still starting`, "wait a minute and run ignis doctor again");
  }
  return fail(
    "server",
    `${server} answered HTTP ${probe.httpStatus} to GET /healthz: not an ignis-server, or not healthy`,
    "check the URL (it is the server's base URL, e.g. https://ignis.example.org) and the server's log",
  );
}

/** The `clock` check: this machine's clock against the server's, from the same probe. */
export function clockCheck(probe: ServerProbe | undefined): DoctorCheck {
  if (!probe?.reachable || probe.serverTimeMs === null) {
    return warn("clock", "not compared: the server's clock could not be read", "fix the server check first");
  }
  const skew = probe.localMidMs - probe.serverTimeMs;
  // The skew is known only to within half the round trip and the server clock's resolution.
  const margin = probe.rttMs / 2 + probe.serverTimeResolutionMs;
  const sure = Math.max(0, Math.abs(skew) - margin);
  const detail = `this clock is ${formatSkew(skew)} the server's (±${Math.ceil(margin)} ms)`;
  if (sure > CLOCK_FAIL_MS) return fail("clock", detail, TIME_SYNC_FIX);
  if (sure > CLOCK_WARN_MS) return warn("clock", detail, TIME_SYNC_FIX);
  return pass("clock", detail);
}

function formatSkew(ms: number): string {
  const abs = Math.abs(ms);
  const size = abs >= 10_000 ? `${(abs / 1000).toFixed(0)} s` : `${Math.round(abs)} ms`;
  return `${size} ${ms >= 0 ? "ahead of" : "behind"}`;
}
