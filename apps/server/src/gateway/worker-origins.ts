import { originOf } from "@ignis/protocol";

/**
 * The origins a worker may sign in its session handshake. With `IGNIS_PUBLIC_URL` set, exactly that origin (set
 * it in production). Without it, the loopback spellings of the local port, so `--server http://127.0.0.1:8080`
 * and `http://localhost:8080` both work on one machine. The first origin is announced in the challenge.
 */
export function workerOrigins(configuredPublicUrl: string | undefined, port: number): string[] {
  if (configuredPublicUrl) return [originOf(configuredPublicUrl)];
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`];
}
