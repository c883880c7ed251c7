/**
 * Watches a restarted server's admissions and says when its fleet is back: the first moment, after `readyAtMs`,
 * at which no worker opener has been refused for `quietMs`, or `maxMs` after the start, whichever comes first.
 * `refused` is the running count of refused openers (the handshake pacer's). Calls `settled` once with the time
 * of the last refusal (or of readiness, when nothing was refused), and returns a stop function.
 */
export function watchAdmissionSettled(options: {
  startedAtMs: number;
  readyAtMs: number;
  now: () => number;
  refused: () => number;
  quietMs: number;
  maxMs: number;
  everyMs: number;
  settled: (atMs: number) => void;
}): () => void {
  let lastCount = options.refused();
  let lastRefusalAtMs = options.readyAtMs;
  const timer = setInterval(() => {
    const now = options.now();
    const count = options.refused();
    if (count !== lastCount) {
      lastCount = count;
      lastRefusalAtMs = now;
    }
    if (now - lastRefusalAtMs >= options.quietMs || now - options.startedAtMs >= options.maxMs) {
      clearInterval(timer);
      options.settled(lastRefusalAtMs);
    }
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
