import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_KEYS, loadConfig } from "../../apps/server/src/config.js";

// No container engine runs here, so the deploy files are checked for what can be checked without one: that they
// name variables the server reads, paths that exist, services that exist, and packages the image installs.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** KEY=VALUE lines of an env file. */
function envFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** Compose interpolation: ${VAR}, ${VAR:-default} and ${VAR:?error}, as `docker compose --env-file` does. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name: string, op?: string, arg?: string) => {
    const value = vars[name];
    if (value !== undefined && value !== "") return value;
    if (op === "-") return arg ?? "";
    if (op === "?") throw new Error(`${name}: ${arg}`);
    return "";
  });
}

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
}

const exampleEnv = envFile(read("deploy/example.env"));
/** Compose interpolates string values after parsing, so `KEY: ${VAR:-}` is an empty string, not null. */
function interpolateValues(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === "string") return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateValues(v, vars));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValues(v, vars)]));
  return value;
}

const composeFile = (vars: Record<string, string>) =>
  interpolateValues(parse(read("deploy/compose.yaml"), { merge: true }), vars) as {
    services: Record<string, ComposeService>;
  };
const compose = composeFile(exampleEnv);
const dockerfile = read("deploy/Dockerfile");
/** The image's ENV defaults (one ENV instruction, continued over lines). */
const imageEnv = envFile(
  (/^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile.split(/^FROM \S+ AS runtime$/m)[1] ?? "")?.[1] ?? "")
    .replace(/\\\n/g, "\n")
    .replace(/^\s+/gm, ""),
);
const replicas = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith("ignis-server"));

describe("deploy/compose.yaml", () => {
  it("interpolates with the example env, and refuses to start without a database password", () => {
    expect(replicas.map(([name]) => name)).toEqual(["ignis-1", "ignis-2"]);
    expect(() => composeFile({ ...exampleEnv, IGNIS_DB_PASSWORD: "" })).toThrow(/IGNIS_DB_PASSWORD/);
  });

  it("gives each replica an environment the server accepts, with no misspelt variable", () => {
    const ids = new Set<string>();
    for (const [name, service] of replicas) {
      const env = { ...imageEnv, ...service.environment };
      const unknown = Object.keys(env).filter(
        (k) => (k.startsWith("IGNIS_") || k === "DATABASE_URL") && !CONFIG_KEYS.includes(k),
      );
      expect(unknown, name).toEqual([]);
      const config = loadConfig(env);
      expect(config.databaseUrl, name).toMatch(/^postgres:\/\/ignis:[^@]+@postgres:5432\/ignis$/);
      expect(config.natsUrl, name).toBe("nats://nats:4222");
      expect(config.publicUrl, name).toBe(`https://${exampleEnv.IGNIS_DOMAIN}`);
      expect(config.port, name).toBe(8080);
      ids.add(config.replicaId);
    }
    // Replica ids name NATS reply subjects and job leases: two replicas with one id would steal replies.
    expect(ids.size).toBe(replicas.length);
  });

  it("depends only on services it defines, and the proxy balances over exactly the replicas", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(compose.services), `${name} → ${dep}`).toContain(dep);
    }
    const upstreams = /reverse_proxy ([^{]+)\{/
      .exec(read("deploy/caddy/Caddyfile"))?.[1]
      ?.trim()
      .split(/\s+/);
    expect(upstreams).toEqual(replicas.map(([name]) => `${name}:8080`));
  });
});

describe("deploy/Dockerfile", () => {
  it("copies paths that exist, runs a script the workspace has and starts the server binary", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    for (const [, script] of dockerfile.matchAll(/npm run ([\w:-]+)/g))
      expect(scripts).toHaveProperty(script!);
    const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(existsSync(join(ROOT, entry[1]!))).toBe(true);
    expect(imageEnv).toMatchObject({ IGNIS_DATA_DIR: "/var/lib/ignis", IGNIS_PORT: "8080" });
    expect(CONFIG_KEYS).toEqual(
      expect.arrayContaining(Object.keys(imageEnv).filter((k) => k.startsWith("IGNIS_"))),
    );
  });

  // The image installs `npm ci --omit=dev` plus tsx; the worker unit assumes the same. A runtime import of a
  // dev dependency works in this checkout and fails only in production.
  it.each([
    ["apps/server", ["apps/server/src", "packages/protocol/src"]],
    ["apps/cli", ["apps/cli/src", "packages/protocol/src"]],
  ])("%s imports at run time only what its production install has", (app, dirs) => {
    const deps = new Set([
      ...Object.keys(JSON.parse(read(`${app}/package.json`)).dependencies ?? {}),
      ...Object.keys(JSON.parse(read("packages/protocol/package.json")).dependencies ?? {}),
      "tsx",
    ]);
    const missing = new Set<string>();
    for (const file of dirs.flatMap(sourceFiles)) {
      for (const specifier of runtimeImports(read(file))) {
        if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier))
          continue;
        const name = specifier.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : specifier.split("/")[0]!;
        if (!deps.has(name)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

describe("deploy/systemd/ignis-worker.service", () => {
  const unit = read("deploy/systemd/ignis-worker.service");

  it("runs `ignis worker run` with the flags it accepts", () => {
    const exec = /^ExecStart=(.+)$/m.exec(unit)![1]!;
    expect(exec).toMatch(/apps\/cli\/bin\/ignis\.js worker run --state \S+/);
    expect(read("apps/cli/src/commands/worker-run.ts")).toMatch(/state: \{ type: "string" \}/);
  });

  it("does not restart a worker whose device was revoked or taken over by another process", () => {
    // `ignis worker run` exits 3 when revoked and 4 when replaced: restarting it would only knock again.
    expect(unit).toMatch(/^RestartPreventExitStatus=3 4$/m);
  });
});

/** Non-test TypeScript sources under a directory. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    // Test support (fixtures, apps/server/src/testing) runs under vitest only.
    if (name === "testing") return [];
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.includes("fixture") ? [path] : [];
  });
}

/** Module specifiers a file loads when it runs: static and dynamic imports and re-exports, not `import type`. */
function runtimeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+"([^"]+)"/gms))
    found.push(m[1]!);
  for (const m of text.matchAll(/^import\s+"([^"]+)"/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)) found.push(m[1]!);
  return found;
}
