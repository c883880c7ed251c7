import { build } from "hdr-histogram-js";

/** An HDR histogram of latencies in microseconds, up to a minute, at three significant digits. */
export const newLatencyHistogram = () =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
