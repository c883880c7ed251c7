import { homedir } from "node:os";
import { join } from "node:path";

/** The CLI's state folder when `--state` is not given: the user's config folder, `~/.config/ignis`. */
export function defaultStateDir(): string {
  return join(homedir(), ".config", "ignis");
}

/** The server URL in the one form used as a key: no trailing slash. */
export function normalizeServer(server: string): string {
  const url = new URL(server);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`not an http(s) URL: ${server}`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
