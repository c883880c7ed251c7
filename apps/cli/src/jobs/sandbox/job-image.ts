import { existsSync, readFileSync } from "node:fs";
import { isImageReference } from "@ignis/protocol";
import type { Engine } from "./engine.js";
import { type CommandRunner, mustRun, runCommand } from "./exec.js";

/** Where Debian's and Ubuntu's busybox-static puts its binary. */
export const BUSYBOX_PATHS = ["/bin/busybox", "/usr/bin/busybox"];

interface RootEntry {
  path: string;
  kind: "dir" | "file" | "symlink";
  mode: number;
  data?: Buffer;
  target?: string;
}

function tarHeader(entry: RootEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(entry.path, 0, 100, "utf8");
  h.write(`${entry.mode.toString(8).padStart(7, "0")}\0`, 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write(entry.kind === "dir" ? "5" : entry.kind === "symlink" ? "2" : "0", 156);
  if (entry.target) h.write(entry.target, 157, 100, "utf8");
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

/** A tar stream of a root filesystem (directories, files and symlinks, all owned by root). */
export function rootTar(entries: RootEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.kind === "file" ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(tarHeader(e, data.length), data);
    if (data.length % 512) parts.push(Buffer.alloc(512 - (data.length % 512)));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/**
 * The smallest useful job image: a static busybox (sh, coreutils, nc, ...) with its applets linked into /bin, a
 * non-root `job` user (1000) whose home is /work, an empty read-only root and a sticky /tmp.
 */
export function busyboxRoot(busybox: Buffer, applets: string[]): Buffer {
  const entries: RootEntry[] = [
    ...["bin", "etc", "dev", "proc", "sys", "work", "root"].map((d) => ({
      path: `${d}/`,
      kind: "dir" as const,
      mode: 0o755,
    })),
    { path: "tmp/", kind: "dir", mode: 0o1777 },
    { path: "bin/busybox", kind: "file", mode: 0o755, data: busybox },
    ...applets
      .filter((a) => /^[a-z0-9][a-z0-9._[\]-]*$/.test(a) && a !== "busybox")
      .map((a) => ({ path: `bin/${a}`, kind: "symlink" as const, mode: 0o777, target: "busybox" })),
    {
      path: "etc/passwd",
      kind: "file",
      mode: 0o644,
      data: Buffer.from("root:x:0:0:root:/root:/bin/sh\njob:x:1000:1000:job:/work:/bin/sh\n"),
    },
    { path: "etc/group", kind: "file", mode: 0o644, data: Buffer.from("root:x:0:\njob:x:1000:\n") },
  ];
  return rootTar(entries);
}

/** Builds the default job image offline from the machine's busybox-static (`podman import`/`docker import`). */
export async function buildJobImage(options: {
  engine: Pick<Engine, "bin">;
  tag: string;
  busybox?: string;
  run?: CommandRunner;
}): Promise<{ tag: string; applets: number }> {
  const run = options.run ?? runCommand;
  if (!isImageReference(options.tag)) throw new Error(`'${options.tag}' is not an image reference`);
  const path = options.busybox ?? BUSYBOX_PATHS.find((p) => existsSync(p));
  if (!path) throw new Error("no busybox found: install busybox-static (apt-get install -y busybox-static)");
  const applets = (await mustRun(run, path, ["--list"])).split("\n").filter(Boolean);
  const tar = busyboxRoot(readFileSync(path), applets);
  await mustRun(
    run,
    options.engine.bin,
    [
      "import",
      "--change",
      "ENV PATH=/bin",
      "--change",
      "USER 1000:1000",
      "--change",
      "WORKDIR /work",
      "--change",
      'CMD ["/bin/sh"]',
      "-",
      options.tag,
    ],
    { input: tar, timeoutMs: 120_000 },
  );
  return { tag: options.tag, applets: applets.length };
}
