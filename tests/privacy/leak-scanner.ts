/** One thing a public response must never contain, found in a response. */
export interface Leak {
  kind: string;
  found: string;
}

const PATTERNS: [string, RegExp][] = [
  ["user id", /usr_[a-z0-9]{26}/],
  ["API key id", /key_[a-z0-9]{26}/],
  ["API key", /ign_[A-Za-z0-9_-]{43}/],
  ["e-mail address", /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/],
  ["IPv4 address", /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/],
  ["IPv6 address", /(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![0-9a-f:])/i],
];

/** Keys that name an owner, a person, a credential or a precise place: none belongs in a public JSON body. */
const FORBIDDEN_KEYS =
  /^(owner|ownerId|owner_id|userId|user_id|email|ip|ipAddress|hostname|location|lat|latitude|lon|lng|longitude|credentialId|keyId|hardware|createdBy|created_by|rttMs|rtt_ms|mbps|provenAt|workerProvesMemory)$/i;
/**
 * The one `location` a public body may hold: a country code (or null), a continent-level region and a source,
 * nothing else. Any other value under that key (coordinates, a city, an address) is a leak.
 */
function isCoarseLocation(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const { country, region, source, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    (country === null || (typeof country === "string" && /^[A-Z]{2}$/.test(country))) &&
    typeof region === "string" &&
    /^[a-z-]+$/.test(region) &&
    (source === "geoip" || source === "declared" || source === "unknown")
  );
}

/** Keys whose value is an identifier: a number there is an internal, sequential id. */
const ID_KEY = /(^id$|Id$|_id$|^seq$)/;

/**
 * Finds what a public response must not hold: the seeded secrets (owner ids, e-mails, key ids, addresses,
 * hostnames, coordinates, private labels) anywhere in its text, identity-shaped strings in JSON, forbidden keys
 * and numeric ids. Pattern checks apply to JSON only: HTML and scripts carry unrelated look-alikes.
 */
export function findLeaks(text: string, contentType: string, secrets: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  const lower = text.toLowerCase();
  for (const secret of secrets) {
    if (secret && lower.includes(secret.toLowerCase())) leaks.push({ kind: "seeded secret", found: secret });
  }
  if (!contentType.includes("json")) return leaks;
  for (const [kind, pattern] of PATTERNS) {
    const match = pattern.exec(text);
    if (match) leaks.push({ kind, found: match[0] });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return leaks;
  }
  walk(body, "$", (path, key, value) => {
    const coarse = key === "location" && isCoarseLocation(value);
    if (FORBIDDEN_KEYS.test(key) && !coarse) leaks.push({ kind: "forbidden key", found: `${path}` });
    if (ID_KEY.test(key) && typeof value === "number")
      leaks.push({ kind: "numeric id", found: `${path}=${value}` });
  });
  return leaks;
}

function walk(
  value: unknown,
  path: string,
  visit: (path: string, key: string, value: unknown) => void,
): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, visit);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      visit(`${path}.${k}`, k, v);
      walk(v, `${path}.${k}`, visit);
    }
  }
}

/** A problem body without the fields that name the request (requestId) or echo its path (instance). */
export function comparableProblem(body: unknown): unknown {
  if (!body || typeof body !== "object") return body;
  const { requestId: _requestId, instance: _instance, ...rest } = body as Record<string, unknown>;
  return rest;
}
