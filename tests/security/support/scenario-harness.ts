import type { AlertView } from "@ignis/protocol";
import type { TestServer } from "../../../apps/server/src/testing/test-server.js";

/** One event of a scenario's timeline, in milliseconds since the attack started. */
export interface TimelineEvent {
  atMs: number;
  what: string;
}

/** Production-like settings: budgets and containment on, and a proxy in front that names the client IP. */
export const SCENARIO_ENV = {
  IGNIS_RATE_LIMITS: "on",
  IGNIS_SECURITY_CONTAINMENT: "on",
  IGNIS_TRUST_PROXY: "127.0.0.1",
};

/** Runs `fn` over items with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** The alerts an admin sees, newest first. */
export async function alertsOf(t: TestServer): Promise<AlertView[]> {
  const res = await fetch(`${t.url}/v1/admin/alerts?limit=100`, {
    headers: { authorization: `Bearer ${t.adminKey}` },
  });
  return ((await res.json()) as { items: AlertView[] }).items;
}
