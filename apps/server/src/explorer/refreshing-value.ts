/** A value computed at most once per `freshMs`, however many readers ask for it. */
export interface RefreshingValue<T> {
  /** The current value: fresh, or slightly stale while one refresh runs in the background. */
  get(): Promise<T>;
}

/**
 * Caches an expensive computation (the network stats) so a burst of readers costs one database round: readers
 * within `freshMs` get the cached value; after it, the first reader starts one refresh and everyone keeps
 * getting the previous value until it lands, unless that value is older than `maxStaleMs`.
 */
export function refreshingValue<T>(
  load: () => Promise<T>,
  options: { freshMs: number; maxStaleMs: number; now?: () => number; onError?: (error: unknown) => void },
): RefreshingValue<T> {
  const now = options.now ?? Date.now;
  let current: { value: T; at: number } | undefined;
  let inFlight: Promise<T> | undefined;

  function refresh(): Promise<T> {
    if (inFlight) return inFlight;
    const started = now();
    inFlight = load()
      .then((value) => {
        current = { value, at: started };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    async get() {
      const age = current ? now() - current.at : Number.POSITIVE_INFINITY;
      if (current && age < options.freshMs) return current.value;
      if (current && age < options.maxStaleMs) {
        refresh().catch((error) => options.onError?.(error));
        return current.value;
      }
      return refresh();
    },
  };
}
