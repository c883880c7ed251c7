import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestBrowser } from "../../apps/server/src/identity/oidc/test-browser.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const CLI = join(import.meta.dirname, "../../apps/cli/bin/ignis.js");

/** Runs the real `ignis` binary; `onStdout` sees output as it arrives (to read the device code). */
function ignis(args: string[], onStdout?: (text: string) => void) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, IGNIS_API_KEY: "", IGNIS_SERVER: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describeEachDialect("ignis login, whoami and logout against the embedded provider", (database) => {
  let t: TestServer;
  let state: string;
  let userId: string;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    state = mkdtempSync(join(tmpdir(), "ignis-cli-state-"));
    const res = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "cli@example.com", roles: ["customer", "supplier"] }),
    });
    const user = (await res.json()) as { id: string; inviteUrl: string };
    userId = user.id;
    const browser = createTestBrowser();
    await browser.submit(await browser.open(user.inviteUrl), {
      password: "cli user password",
      confirmation: "cli user password",
    });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const saved = () =>
    JSON.parse(readFileSync(join(state, "credentials.json"), "utf8")) as {
      current?: string;
      logins: Record<string, { accessToken: string; refreshToken?: string; expiresAt: number }>;
    };

  it("logs in with the device code approved in a browser, saving tokens with mode 0600", async () => {
    let approval: Promise<unknown> | undefined;
    const result = await ignis(["login", "--server", t.url, "--state", state], (out) => {
      const code = /enter the code: ([A-Z]{4}-[A-Z]{4})/.exec(out)?.[1];
      const uri = /open (http\S+\/oidc\/device)\n/.exec(out)?.[1];
      if (!code || !uri || approval) return;
      approval = (async () => {
        const browser = createTestBrowser();
        const confirm = await browser.submit(
          await browser.open(uri),
          { user_code: code },
          "op.deviceInputForm",
        );
        const login = await browser.submit(confirm, {}, "op.deviceConfirmForm");
        const done = await browser.submit(login, { email: "cli@example.com", password: "cli user password" });
        expect(done.body).toContain("You are signed in");
      })();
    });
    await approval;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${t.url} as cli@example.com.`);
    expect(statSync(join(state, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(saved().current).toBe(t.url);
  }, 60_000);

  it("whoami answers with the user's id and roles", async () => {
    const result = await ignis(["whoami", "--state", state, "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      id: userId,
      email: "cli@example.com",
      roles: ["customer", "supplier"],
      credential: "token",
      server: t.url,
    });
  });

  it("refreshes an expired access token on its own", async () => {
    const before = saved();
    const login = before.logins[t.url];
    if (!login) throw new Error("no saved login");
    login.expiresAt = Math.floor(Date.now() / 1000) - 10;
    writeFileSync(join(state, "credentials.json"), JSON.stringify(before), { mode: 0o600 });
    const result = await ignis(["whoami", "--state", state]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`id: ${userId}`);
    const after = saved().logins[t.url];
    expect(after?.accessToken).not.toBe(login.accessToken);
    expect(after?.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it("logout revokes the refresh token and forgets the login", async () => {
    const refreshToken = saved().logins[t.url]?.refreshToken ?? "";
    const result = await ignis(["logout", "--state", state]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Signed out of ${t.url}.\n`);
    expect(saved().logins).toEqual({});
    const reuse = await fetch(`${t.url}/oidc/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: "ignis-cli",
      }),
    });
    expect(((await reuse.json()) as { error: string }).error).toBe("invalid_grant");
    const whoami = await ignis(["whoami", "--state", state, "--server", t.url]);
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toContain("ignis login");
  });
});
