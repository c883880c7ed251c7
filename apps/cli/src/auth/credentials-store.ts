import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

/** Tokens of one `ignis login`, for one server. */
export const SavedLogin = z.object({
  issuer: z.string(),
  clientId: z.string(),
  accessToken: z.string(),
  refreshToken: z.string().optional(),
  /** Epoch seconds after which the access token is no longer accepted. */
  expiresAt: z.number(),
  email: z.string().optional(),
});
/** Tokens of one `ignis login`, for one server. */
export type SavedLogin = z.infer<typeof SavedLogin>;

const CredentialsFile = z.object({
  version: z.literal(1),
  current: z.string().optional(),
  logins: z.record(z.string(), SavedLogin),
});
/** Everything `ignis login` saved: one login per server, and the server used last. */
export type Credentials = z.infer<typeof CredentialsFile>;

/** Name of the file (mode 0600) in the state dir that holds login tokens. */
export const CREDENTIALS_FILE = "credentials.json";

/** Reads the saved logins; an absent file means none. */
export function readCredentials(stateDir: string): Credentials {
  let text: string;
  try {
    text = readFileSync(join(stateDir, CREDENTIALS_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, logins: {} };
    throw error;
  }
  const parsed = CredentialsFile.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${join(stateDir, CREDENTIALS_FILE)} is damaged; run \`ignis logout\` and log in again`);
  return parsed.data;
}

/** Writes the saved logins atomically, readable by the owner only. */
export function writeCredentials(stateDir: string, credentials: Credentials): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, CREDENTIALS_FILE);
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

// A holder that died leaves its lock behind; after this long it is presumed dead.
const STALE_LOCK_MS = 30_000;

/**
 * Runs `fn` holding the state dir's credentials lock, so two commands refreshing at once do not both spend the
 * same (rotating) refresh token: the second waits, then sees the first's fresh tokens.
 */
export async function withCredentialsLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lock = join(stateDir, "credentials.lock");
  for (;;) {
    try {
      closeSync(openSync(lock, "wx", 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (held) await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
