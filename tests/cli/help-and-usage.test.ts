import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommands } from "../../apps/cli/src/commands/index.js";
import { runBin } from "./run-bin.js";

const IGNIS = "apps/cli/bin/ignis.js";
const SERVER = "apps/server/bin/ignis-server.js";

/** Runs `f` over `items`, four at a time (each is a Node process; the machine is shared). */
async function inBatches<T, R>(items: T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 4) out.push(...(await Promise.all(items.slice(i, i + 4).map(f))));
  return out;
}

describe("ignis and ignis-server on the command line", () => {
  let cwd: string;
  let home: string;
  let held: Server;
  let port: number;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "ignis-cli-cwd-"));
    home = mkdtempSync(join(tmpdir(), "ignis-cli-home-"));
    // The port the server would take is held here: a command that tried to listen would fail on it.
    held = createServer().listen(0, "127.0.0.1");
    await once(held, "listening");
    port = (held.address() as { port: number }).port;
    env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      IGNIS_PORT: String(port),
      IGNIS_HOST: "127.0.0.1",
      IGNIS_SERVER: undefined,
      IGNIS_API_KEY: undefined,
    };
  });
  afterAll(() => {
    held.close();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("answers --help on every command and subcommand with exit 0, opening no port and making no data dir", async () => {
    const commands = await loadCommands();
    const cases: Array<[string, string[]]> = [
      [IGNIS, ["--help"]],
      [IGNIS, ["help", "worker", "run"]],
      [IGNIS, ["worker", "--help"]],
      [IGNIS, ["admin", "-h"]],
      ...commands.map((c): [string, string[]] => [IGNIS, [...c.path, "--help"]]),
      [SERVER, ["--help"]],
      [SERVER, ["invite", "--help"]],
      [SERVER, ["audit", "--help"]],
      [SERVER, ["audit", "verify", "--help"]],
      [SERVER, ["chain", "--help"]],
    ];
    const results = await inBatches(cases, async ([bin, args]) => ({
      args,
      ...(await runBin(bin, args, { cwd, env })),
    }));
    for (const r of results) {
      expect({ args: r.args, code: r.code, stderr: r.stderr }).toEqual({ args: r.args, code: 0, stderr: "" });
      expect(r.stdout).toMatch(/usage: /);
    }
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  }, 300_000);

  it("answers --version on both, and on a subcommand, with exit 0", async () => {
    const [cli, sub, server] = await Promise.all([
      runBin(IGNIS, ["--version"], { cwd, env }),
      runBin(IGNIS, ["worker", "run", "--version"], { cwd, env }),
      runBin(SERVER, ["--version"], { cwd, env }),
    ]);
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ignis \d+\.\d+\.\d+\n$/) });
    expect(sub).toMatchObject({ code: 0, stdout: cli.stdout });
    expect(server).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^ignis-server \d+\.\d+\.\d+\n$/),
    });
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);

  it("exits 2 on an unknown flag or word, naming it with the nearest known one, before any credential", async () => {
    const cases: Array<[string, string[], RegExp]> = [
      [IGNIS, ["sim", "--devics", "3"], /unknown option '--devics' \(did you mean --devices\?\)/],
      [IGNIS, ["worker", "enrol"], /unknown command 'worker enrol' \(did you mean 'ignis worker enroll'\?\)/],
      [
        IGNIS,
        ["clusters", "craete"],
        /unknown action 'craete' for ignis clusters \(did you mean 'ignis clusters create'\?\)/,
      ],
      [
        IGNIS,
        ["clusters", "create", "--modle", "sim-a100"],
        /unknown option '--modle' \(did you mean --model\?\)/,
      ],
      [IGNIS, ["rewards", "verfy"], /did you mean 'ignis rewards verify'\?/],
      [IGNIS, ["whoami", "--sever", "http://x"], /unknown option '--sever' \(did you mean --server\?\)/],
      [IGNIS, ["worker"], /'ignis worker' needs a command: one of enroll, run, update, image/],
      [IGNIS, [], /usage: ignis <command>/],
      [SERVER, ["invte"], /unknown command 'invte' \(did you mean 'invite'\?\)/],
      [SERVER, ["--prot", "9000"], /unknown option '--prot' \(did you mean --port\?\)/],
      [SERVER, ["invite", "--emial", "a@b.c"], /unknown option '--emial' \(did you mean --email\?\)/],
      [SERVER, ["audit", "verfy"], /unexpected argument 'verfy' \(did you mean 'verify'\?\)/],
    ];
    const results = await inBatches(cases, async ([bin, args, pattern]) => ({
      args,
      pattern,
      ...(await runBin(bin, args, { cwd, env })),
    }));
    for (const r of results) {
      expect({ args: r.args, code: r.code }).toEqual({ args: r.args, code: 2 });
      expect(r.stderr).toMatch(r.pattern);
    }
    // No credential was looked up, so no state folder was made.
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  }, 300_000);

  it("fails with exit 1 and one line that says what to do", async () => {
    const unreachable = await runBin(IGNIS, ["whoami", "--server", "http://127.0.0.1:9", "--api-key", "k"], {
      cwd,
      env,
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^ignis: cannot reach http:\/\/127\.0\.0\.1:9 \(.+\): check that ignis-server runs there, or pass --server URL \/ set IGNIS_SERVER\n$/,
    );
    const notSignedIn = await runBin(IGNIS, ["clusters", "ls"], { cwd, env });
    expect(notSignedIn.code).toBe(1);
    expect(notSignedIn.stderr).toMatch(
      /^ignis: no server given: pass --server URL, or run `ignis login --server URL`\n$/,
    );
  }, 120_000);
});
