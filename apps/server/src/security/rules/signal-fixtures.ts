import type { RequestSignal } from "../signals.js";

/** A request signal with test defaults: a write by one API key from one address. */
export function signal(overrides: Partial<RequestSignal> = {}): RequestSignal {
  return {
    at: 1_000_000,
    actorType: "user",
    actorId: "usr_a",
    credentialId: "key_a",
    credentialType: "api_key",
    admin: false,
    ip: "192.0.2.10",
    method: "PATCH",
    route: "/v1/devices/:deviceId",
    rateClass: "write",
    write: true,
    objectType: "device",
    objectId: "dev_1",
    status: 200,
    ...overrides,
  };
}

/** An anonymous read signal, as the explorer sees it. */
export function anonymousRead(overrides: Partial<RequestSignal> = {}): RequestSignal {
  return signal({
    actorType: "anonymous",
    actorId: null,
    credentialId: null,
    credentialType: null,
    method: "GET",
    route: "/v1/explorer/devices/:deviceId",
    rateClass: "explorer",
    write: false,
    ...overrides,
  });
}
