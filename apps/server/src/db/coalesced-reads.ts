/** Rows per batch: a storm's reads are split so no statement carries an unbounded parameter list. */
const DEFAULT_MAX_BATCH = 500;

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent reads of the same kind into one statement: the first read goes to the database at once,
 * and reads asked while a batch is in flight wait for it and go together in the next one. A lone read costs what
 * it cost before (no timer, no added wait); a reconnect storm of thousands costs one statement per batch instead
 * of one round trip per device. Nothing is cached: every answer comes from a statement that started after the
 * read was asked, so it is as fresh as a read of its own would be. A failed batch rejects the reads in it.
 */
export class CoalescedReads<R, V> {
  private queue = new Map<string, { request: R; waiters: Waiter<V>[] }>();
  private running = false;

  constructor(
    /** Reads every request of a batch in one statement; answers by key (a missing key answers undefined). */
    private readonly load: (requests: R[]) => Promise<Map<string, V>>,
    private readonly keyOf: (request: R) => string,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Reads one request, in the next batch; identical requests waiting together share one row. */
  read(request: R): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const key = this.keyOf(request);
      const queued = this.queue.get(key);
      if (queued) queued.waiters.push({ resolve, reject });
      else this.queue.set(key, { request, waiters: [{ resolve, reject }] });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.size > 0) {
        const batch: Array<[string, { request: R; waiters: Waiter<V>[] }]> = [];
        for (const entry of this.queue) {
          batch.push(entry);
          if (batch.length >= this.maxBatch) break;
        }
        for (const [key] of batch) this.queue.delete(key);
        try {
          const answers = await this.load(batch.map(([, q]) => q.request));
          for (const [key, q] of batch) for (const w of q.waiters) w.resolve(answers.get(key));
        } catch (error) {
          for (const [, q] of batch) for (const w of q.waiters) w.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
