/**
 * Hand-checked decoders for the frames a device sends thousands of times a second (`heartbeat`, and
 * `session.auth` during a reconnect storm). Each accepts exactly what its zod schema in worker-protocol.ts
 * accepts and returns the same value; anything else returns `undefined`, and the caller falls back to the schema,
 * which then refuses it with its usual error. hot-frames.test.ts checks the agreement with generated frames.
 */
import type { HeartbeatLoad } from "./devices.js";

/** The same patterns the schemas use (common.ts, devices.ts). */
const DEVICE_ID = /^dev_[a-z0-9]{26}$/;
const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A finite number within [min, max] (zod's `z.number().min().max()` refuses NaN and infinities). */
const inRange = (value: unknown, min: number, max: number): boolean =>
  typeof value === "number" && Number.isFinite(value) && value >= min && value <= max;

/** True when every own key of `object` is in `allowed` (a strict object's unknown-key rule). */
function onlyKeys(object: Fields, allowed: ReadonlySet<string>): boolean {
  for (const key of Object.keys(object)) if (!allowed.has(key)) return false;
  return true;
}

const HEARTBEAT_KEYS = new Set(["type", "seq", "deviceId", "ack", "load"]);
const LOAD_KEYS = new Set(["cpuPercent", "memUsedGb", "gpus", "busy"]);
const GPU_KEYS = new Set(["utilPercent", "memUsedGb", "temperatureC"]);
const AUTH_KEYS = new Set(["type", "deviceId", "publicKey", "signature", "agent"]);
const AGENT_KEYS = new Set(["version", "profile"]);

function isLoad(value: unknown): value is HeartbeatLoad {
  if (!isRecord(value) || !onlyKeys(value, LOAD_KEYS)) return false;
  if (!inRange(value.cpuPercent, 0, 100) || !inRange(value.memUsedGb, 0, 65_536)) return false;
  if (typeof value.busy !== "boolean") return false;
  const gpus = value.gpus;
  if (!Array.isArray(gpus) || gpus.length > 64) return false;
  for (const gpu of gpus) {
    if (!isRecord(gpu) || !onlyKeys(gpu, GPU_KEYS)) return false;
    if (!inRange(gpu.utilPercent, 0, 100) || !inRange(gpu.memUsedGb, 0, 4096)) return false;
    if (gpu.temperatureC !== null && !inRange(gpu.temperatureC, -50, 200)) return false;
  }
  return true;
}

/** The frame (its version already removed) when it is a valid `heartbeat`; undefined otherwise. */
export function checkedHeartbeat(frame: Fields): Fields | undefined {
  if (frame.type !== "heartbeat" || !onlyKeys(frame, HEARTBEAT_KEYS)) return undefined;
  const seq = frame.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (frame.deviceId !== undefined && !(typeof frame.deviceId === "string" && DEVICE_ID.test(frame.deviceId)))
    return undefined;
  if (frame.ack !== undefined && typeof frame.ack !== "boolean") return undefined;
  return isLoad(frame.load) ? frame : undefined;
}

/** The frame (its version already removed) when it is a valid `session.auth`; undefined otherwise. */
export function checkedSessionAuth(frame: Fields): Fields | undefined {
  if (frame.type !== "session.auth" || !onlyKeys(frame, AUTH_KEYS)) return undefined;
  if (typeof frame.deviceId !== "string" || !DEVICE_ID.test(frame.deviceId)) return undefined;
  if (typeof frame.publicKey !== "string" || !PUBLIC_KEY.test(frame.publicKey)) return undefined;
  if (typeof frame.signature !== "string" || !SIGNATURE.test(frame.signature)) return undefined;
  const agent = frame.agent;
  if (agent !== undefined) {
    if (!isRecord(agent) || !onlyKeys(agent, AGENT_KEYS)) return undefined;
    if (typeof agent.version !== "string" || agent.version.length > 40) return undefined;
    if (typeof agent.profile !== "string" || agent.profile.length > 40) return undefined;
  }
  return frame;
}

/** The frame when it is a valid hot frame (`heartbeat` or `session.auth`); undefined sends it to the schema. */
export function checkedHotFrame(frame: Fields): Fields | undefined {
  if (frame.type === "heartbeat") return checkedHeartbeat(frame);
  if (frame.type === "session.auth") return checkedSessionAuth(frame);
  return undefined;
}

/** The `heartbeat.ack` frame, written without a schema or a spread: the server sends it thousands of times a second. */
export function encodeHeartbeatAck(seq: number, serverTime: number, version = 1): string {
  return `{"v":${version},"type":"heartbeat.ack","seq":${seq},"serverTime":${serverTime}}`;
}
