import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { CREDENTIALS_FILE, readCredentials, writeCredentials } from "./credentials-store.js";
import { NotSignedInError, resolveCredential } from "./resolve-credential.js";

let state: string;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), "ignis-cred-"));
  vi.stubEnv("IGNIS_API_KEY", "");
  vi.stubEnv("IGNIS_SERVER", "");
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(state, { recursive: true, force: true });
});

const saveLogin = (server: string, expiresAt: number) =>
  writeCredentials(state, {
    version: 1,
    current: server,
    logins: {
      [server]: { issuer: `${server}/oidc`, clientId: "ignis-cli", accessToken: "saved-token", expiresAt },
    },
  });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

it("prefers an explicit API key over a saved login", async () => {
  saveLogin("https://ignis.example", inAnHour());
  await expect(resolveCredential({ apiKey: "ign_flag", stateDir: state })).resolves.toEqual({
    server: "https://ignis.example",
    token: "ign_flag",
    source: "api-key",
  });
});

it("takes IGNIS_API_KEY from the environment when no flag is given", async () => {
  vi.stubEnv("IGNIS_API_KEY", "ign_env");
  const resolved = await resolveCredential({ server: "https://other.example/", stateDir: state });
  expect(resolved).toEqual({ server: "https://other.example", token: "ign_env", source: "api-key" });
});

it("uses the saved login of the last server while it is fresh", async () => {
  saveLogin("https://ignis.example", inAnHour());
  const resolved = await resolveCredential({ stateDir: state });
  expect(resolved).toEqual({ server: "https://ignis.example", token: "saved-token", source: "login" });
});

it("says to run ignis login when there is no login for the server", async () => {
  saveLogin("https://ignis.example", inAnHour());
  const attempt = resolveCredential({ server: "https://elsewhere.example", stateDir: state });
  await expect(attempt).rejects.toBeInstanceOf(NotSignedInError);
  await expect(attempt).rejects.toThrow("ignis login --server https://elsewhere.example");
});

it("says to log in again when an expired login has no refresh token", async () => {
  saveLogin("https://ignis.example", Math.floor(Date.now() / 1000) - 5);
  await expect(resolveCredential({ stateDir: state })).rejects.toThrow("has expired");
});

it("keeps the credentials file private to the user", () => {
  saveLogin("https://ignis.example", inAnHour());
  expect(statSync(join(state, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
  expect(readCredentials(state).current).toBe("https://ignis.example");
});
