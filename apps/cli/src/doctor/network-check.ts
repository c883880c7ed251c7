import { type LinkMeasureOptions, measureLink } from "../worker/link-measure.js";
import { type DoctorCheck, warn } from "./doctor-check.js";

/** A round trip above this makes interactive sessions and proof deadlines tight. */
export const RTT_WARN_MS = 250;
/** Below this download speed, job images and datasets arrive slowly. */
export const MBPS_WARN = 10;
/** Below this upload speed, results and checkpoints leave slowly. */
export const UPLOAD_MBPS_WARN = 5;

/**
 * The `network` check: round trip, download and upload speed to the server (link-measure.ts). Never a failure: a slow
 * link is still a working one, and an unreachable server is the server check's failure.
 */
export async function networkCheck(
  server: string | undefined,
  reachable: boolean,
  options?: LinkMeasureOptions,
): Promise<DoctorCheck> {
  if (!server || !reachable) {
    return warn("network", "not measured: the server cannot be reached", "fix the server check first");
  }
  let link: Awaited<ReturnType<typeof measureLink>>;
  try {
    link = await measureLink(server, options);
  } catch (error) {
    return warn(
      "network",
      `the measurement broke off: ${(error as Error).message.slice(0, 120)}`,
      "check the link to the server (packet loss, a proxy cutting long downloads) and run ignis doctor again",
    );
  }
  const speed =
    link.mbps === null
      ? "download speed not measured"
      : `download ${link.mbps} Mbit/s (${(link.bytes / 1024 / 1024).toFixed(1)} MiB in ${link.seconds} s)`;
  const upload =
    link.uploadMbps === null
      ? "upload speed not measured"
      : `upload ${link.uploadMbps} Mbit/s (${(link.uploadBytes / 1024 / 1024).toFixed(1)} MiB in ${link.uploadSeconds} s)`;
  const detail = `round trip ${link.rttMs} ms (median of ${link.rttSamplesMs.length}), ${speed}, ${upload}`;
  if (
    link.rttMs > RTT_WARN_MS ||
    (link.mbps !== null && link.mbps < MBPS_WARN) ||
    (link.uploadMbps !== null && link.uploadMbps < UPLOAD_MBPS_WARN)
  ) {
    return warn(
      "network",
      detail,
      "a wired link or a server region nearer to this machine helps; the device still works, more slowly",
    );
  }
  return { id: "network", status: "pass", detail };
}
