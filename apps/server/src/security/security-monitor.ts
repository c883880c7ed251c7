import { IgnisError } from "@ignis/protocol";
import type { Bus } from "../bus/bus.js";
import type { Db } from "../db/database.js";
import { acknowledgeAlert, releaseAlert } from "./alert-review.js";
import type { WebhookConfig, WebhookTransport } from "./alert-webhook.js";
import { type AlertRecord, findAlert } from "./alerts.js";
import { containmentFor, containmentTarget, type DeviceDisconnector } from "./containment.js";
import { deliverAlertWebhook, type RaiseContext, raiseAlert } from "./raise-alert.js";
import type { RateLimits } from "./rate-limits.js";
import { assessDeviceIncident, type DeviceIncidentReport } from "./rules/device-incident.js";
import { assessHardwareChange, type ClaimedHardware } from "./rules/hardware-change.js";
import { createKeyMintingRule, type KeyMintingOptions } from "./rules/key-minting.js";
import { createObjectSweepRule, type ObjectSweepOptions } from "./rules/object-sweep.js";
import { createRefusalBurstRule, type RefusalBurstOptions } from "./rules/refusal-burst.js";
import { createSustainedWritesRule, type SustainedWritesOptions } from "./rules/sustained-writes.js";
import {
  createHandshakeRule,
  type HandshakeAttempt,
  type HandshakeRefusal,
  type HandshakeRuleOptions,
} from "./rules/unknown-device-handshake.js";
import { createWriteSurgeRule, type WriteSurgeOptions } from "./rules/write-surge.js";
import { createSignalExchange } from "./signal-exchange.js";
import type { Finding, RequestSignal } from "./signals.js";

/** The structured logger the monitor writes to (pino's shape). */
export interface MonitorLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything the monitor needs; thresholds default to the rules' documented values. */
export interface SecurityMonitorOptions {
  db: Db;
  rateLimits: RateLimits;
  log: MonitorLog;
  alertsCounter?: { inc(labels: { rule: string; severity: string }): void };
  webhook: WebhookConfig;
  webhookTransport?: WebhookTransport;
  /** Off: alerts only, nothing contained (a dry run while tuning thresholds). */
  containment: boolean;
  blockSeconds?: number;
  now?: () => number;
  rules?: {
    writeSurge?: Partial<WriteSurgeOptions>;
    objectSweep?: Partial<ObjectSweepOptions>;
    refusalBurst?: Partial<RefusalBurstOptions>;
    handshake?: Partial<HandshakeRuleOptions>;
    keyMinting?: Partial<KeyMintingOptions>;
    sustainedWrites?: Partial<SustainedWritesOptions>;
  };
  disconnectDevice?: DeviceDisconnector;
  /** Other replicas to share observations with, so each detects on the traffic of all (signal-exchange.ts). */
  peers?: { bus: Bus; replicaId: string };
}

/** The in-process security monitor: rules fed by every request and worker event, alerts, containment. */
export interface SecurityMonitor {
  /** Feeds one finished request to every rule; findings are raised at once, in the background. */
  observeRequest(signal: RequestSignal): void;
  /**
   * The refusal owed to a credential whose containment was decided but may not be stored yet (this replica
   * only, until the alert is stored): `account_suspended` for a suspended user, `api_key_suspended` for a key.
   */
  heldContainment(credentialId: string, userId: string): "account_suspended" | "api_key_suspended" | null;
  /** True while a block of this address is decided but maybe not yet in the rate-limit store. */
  heldAddress(ip: string): boolean;
  /**
   * For the worker domain: a device's claimed hardware changed; alerts on a material change, and quarantines
   * unless `contain: false` (a claim over a session, which triggers a fresh proof instead).
   */
  reportHardwareChange(
    deviceId: string,
    before: ClaimedHardware,
    after: ClaimedHardware,
    context?: { ip?: string | null; keyId?: string | null; contain?: boolean },
  ): Promise<AlertRecord | null>;
  /** For the gateway: a device's key looks copied (duplicate session, unsolicited rotation); raises an alert. */
  reportDeviceIncident(incident: DeviceIncidentReport): Promise<AlertRecord | null>;
  /** For the gateway: a handshake or heartbeat for an unknown or revoked device, or with a bad signature. */
  reportUnknownDeviceHandshake(attempt: {
    deviceId: string | null;
    ip: string;
    reason: HandshakeRefusal;
  }): Promise<AlertRecord[]>;
  /**
   * An admin has seen the alert; containment stays. `db` is the transaction to write in (a route's audited
   * write), else the monitor's own handle.
   */
  acknowledge(alertId: string, adminId: string, note?: string, db?: Db): Promise<AlertRecord>;
  /**
   * An admin closes the alert and lifts its containment, writing in `db` when given (as for acknowledge). An
   * address block lives in the rate-limit store, outside any database transaction.
   */
  release(
    alertId: string,
    adminId: string,
    note?: string,
    db?: Db,
  ): Promise<AlertRecord & { lifted: boolean }>;
  /** Lets the gateway close quarantined devices' sessions. */
  setDeviceDisconnector(disconnect: DeviceDisconnector): void;
  /** Resolves when every raised finding and webhook so far has been handled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const SUPPRESS_MS = 10 * 60_000;

/** Creates the monitor and its once-a-second housekeeping timer. */
export function createSecurityMonitor(options: SecurityMonitorOptions): SecurityMonitor {
  const now = options.now ?? Date.now;
  const requestRules = [
    createWriteSurgeRule(options.rules?.writeSurge),
    createObjectSweepRule(options.rules?.objectSweep),
    createRefusalBurstRule(options.rules?.refusalBurst),
    createKeyMintingRule(options.rules?.keyMinting),
    createSustainedWritesRule(options.rules?.sustainedWrites),
  ];
  const handshakeRule = createHandshakeRule(options.rules?.handshake);
  const deps = { db: options.db, rateLimits: options.rateLimits, disconnectDevice: options.disconnectDevice };
  const raising: RaiseContext = { ...options, deps };
  /** rule|subject → until when a new finding is folded into the open alert instead of raising another. */
  const suppressed = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  /** `key:<id>` / `user:<id>` contained by a finding whose alert is still being stored. */
  const held = new Map<string, number>();
  let chain: Promise<unknown> = Promise.resolve();
  const observe = (signal: RequestSignal) => {
    for (const rule of requestRules) for (const finding of rule.observe(signal)) void enqueue(finding);
  };
  const observeHandshake = (attempt: HandshakeAttempt) =>
    track(Promise.all(handshakeRule.observe(attempt).map(enqueue)));
  const exchange =
    options.peers &&
    createSignalExchange({
      ...options.peers,
      log: options.log,
      onSignal: observe,
      onHandshake: (attempt) => void observeHandshake(attempt),
    });

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  }

  /** Holds a credential the moment a rule decides to contain it, so requests already queued are refused. */
  function hold(finding: Finding): string | null {
    if (!options.containment || !finding.contain || finding.subject.admin) return null;
    const key = containmentTarget(containmentFor(finding, options.blockSeconds));
    if (key) held.set(key, (held.get(key) ?? 0) + 1);
    return key;
  }

  function unhold(key: string | null) {
    if (!key) return;
    const n = (held.get(key) ?? 1) - 1;
    if (n <= 0) held.delete(key);
    else held.set(key, n);
  }

  function enqueue(finding: Finding): Promise<AlertRecord | null> {
    const heldKey = hold(finding);
    const next = chain.then(() => raise(finding)).finally(() => unhold(heldKey));
    chain = next.catch((error: unknown) => options.log.error({ err: error }, "security alert failed"));
    return track(next);
  }

  async function raise(found: Finding): Promise<AlertRecord | null> {
    const dedupe = `${found.rule}|${found.subject.key}`;
    if ((suppressed.get(dedupe) ?? 0) > now()) return null;
    suppressed.set(dedupe, now() + SUPPRESS_MS);
    const record = await raiseAlert(raising, found);
    if (record && options.webhook.url) track(deliverAlertWebhook(raising, record));
    return record;
  }

  function forget(subjectKey: string) {
    for (const rule of requestRules) rule.forget(subjectKey);
    handshakeRule.forget(subjectKey);
    for (const key of suppressed.keys()) if (key.endsWith(`|${subjectKey}`)) suppressed.delete(key);
  }

  const timer = setInterval(() => {
    const t = now();
    for (const rule of requestRules) rule.prune(t);
    handshakeRule.prune(t);
    for (const [key, until] of suppressed) if (until <= t) suppressed.delete(key);
  }, 1000);
  timer.unref();

  return {
    observeRequest(signal) {
      observe(signal);
      exchange?.share(signal);
    },
    heldAddress(ip) {
      return held.has(`ip:${ip}`);
    },
    heldContainment(credentialId, userId) {
      if (held.has(`key:${credentialId}`)) return "api_key_suspended";
      if (held.has(`user:${userId}`)) return "account_suspended";
      return null;
    },
    async reportHardwareChange(deviceId, before, after, context) {
      const finding = assessHardwareChange(deviceId, before, after, context);
      return finding ? enqueue(finding) : null;
    },
    async reportDeviceIncident(incident) {
      return enqueue(assessDeviceIncident(incident));
    },
    async reportUnknownDeviceHandshake(attempt) {
      const observed = { ...attempt, at: now() };
      exchange?.shareHandshake(observed);
      const raised = await observeHandshake(observed);
      return raised.filter((a): a is AlertRecord => a !== null);
    },
    async acknowledge(alertId, adminId, note, db = options.db) {
      return acknowledgeAlert(db, alertId, adminId, note ?? null);
    },
    async release(alertId, adminId, note, db = options.db) {
      const alert = await findAlert(db, alertId);
      if (!alert) throw new IgnisError("not_found", "no such alert");
      const released = await releaseAlert({ ...deps, db }, alert, adminId, note ?? null);
      forget(alert.subject);
      return released;
    },
    setDeviceDisconnector(disconnect) {
      deps.disconnectDevice = disconnect;
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      clearInterval(timer);
      await exchange?.close();
      await this.settled();
    },
  };
}
