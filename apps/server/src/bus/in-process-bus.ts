import { IgnisError } from "@ignis/protocol";
import { type Bus, type BusHandler, type BusSubscription, subjectMatches } from "./bus.js";

interface Entry {
  pattern: string;
  handler: BusHandler;
}

/**
 * The bus of a single process: exact subjects are a map lookup, wildcard patterns a short scan. Payloads go
 * through a JSON round trip, so a handler never shares an object with the publisher (as over NATS).
 * Several servers in one process (tests) share one instance to act as replicas.
 */
export function createInProcessBus(): Bus {
  const exact = new Map<string, Set<Entry>>();
  const wildcards = new Set<Entry>();
  let closed = false;

  const deliver = (entry: Entry, payload: unknown, subject: string) => {
    // Asynchronous like a network bus: a publisher never runs subscribers inside its own call stack.
    queueMicrotask(() => {
      try {
        const result = entry.handler(payload, subject);
        if (result instanceof Promise) result.catch(() => undefined);
      } catch {
        // A failing subscriber must not affect the publisher or other subscribers.
      }
    });
  };

  return {
    async publish(subject, payload) {
      if (closed) throw new IgnisError("unavailable", "the message bus is closed");
      const text = JSON.stringify(payload ?? null);
      for (const entry of exact.get(subject) ?? []) deliver(entry, JSON.parse(text), subject);
      for (const entry of wildcards) {
        if (subjectMatches(entry.pattern, subject)) deliver(entry, JSON.parse(text), subject);
      }
    },
    subscribe(pattern, handler): BusSubscription {
      const entry: Entry = { pattern, handler };
      const isWildcard = pattern.split(".").some((t) => t === "*" || t === ">");
      if (isWildcard) wildcards.add(entry);
      else {
        const set = exact.get(pattern) ?? new Set<Entry>();
        set.add(entry);
        exact.set(pattern, set);
      }
      return {
        unsubscribe() {
          if (isWildcard) wildcards.delete(entry);
          else {
            const set = exact.get(pattern);
            set?.delete(entry);
            if (set?.size === 0) exact.delete(pattern);
          }
        },
      };
    },
    async close() {
      closed = true;
      exact.clear();
      wildcards.clear();
    },
  };
}
