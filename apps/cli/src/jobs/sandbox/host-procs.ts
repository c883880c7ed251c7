import { readdir, readFile } from "node:fs/promises";

/** A host process that belongs to a job (by cgroup or by uid) after the job should be gone. */
export interface Survivor {
  pid: number;
  uid: number;
  command: string;
}

/**
 * Host processes left of a job: those whose cgroup path names the job's container id, and (where the job ran in
 * a uid range of its own) those running as a uid in that range. Reads /proc; processes that vanish meanwhile
 * are skipped.
 */
export async function findJobProcesses(match: {
  containerId?: string | undefined;
  uidRange?: { first: number; count: number } | undefined;
}): Promise<Survivor[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const found: Survivor[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      let hit =
        match.uidRange !== undefined &&
        uid >= match.uidRange.first &&
        uid < match.uidRange.first + match.uidRange.count;
      if (!hit && match.containerId) {
        const cgroup = await readFile(`/proc/${name}/cgroup`, "utf8");
        hit = cgroup.includes(match.containerId);
      }
      if (hit) {
        const command = (/^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?").slice(0, 60);
        found.push({ pid: Number(name), uid, command });
      }
    } catch {
      // gone already
    }
  }
  return found;
}

/** SIGKILLs processes; returns those that could be signalled. */
export function killAll(survivors: Survivor[]): Survivor[] {
  return survivors.filter((s) => {
    try {
      process.kill(s.pid, "SIGKILL");
      return true;
    } catch {
      return false;
    }
  });
}

/** The memory cgroup folder of a process (v1 `memory` controller or the v2 unified tree), or null. */
export async function memoryCgroupOf(pid: number): Promise<{ dir: string; v2: boolean } | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return null;
  }
  const lines = text.trim().split("\n");
  const v1 = lines.map((l) => l.split(":")).find((p) => p[1]?.split(",").includes("memory"));
  if (v1?.[2]) return { dir: `/sys/fs/cgroup/memory${v1[2]}`, v2: false };
  const unified = lines.map((l) => l.split(":")).find((p) => p[0] === "0" && p[1] === "");
  if (unified?.[2] !== undefined) return { dir: `/sys/fs/cgroup${unified[2]}`, v2: true };
  return null;
}

/** OOM kills counted for a memory cgroup so far (`oom_kill` of memory.oom_control or memory.events), or null. */
export async function oomKills(cgroup: { dir: string; v2: boolean }): Promise<number | null> {
  try {
    const text = await readFile(
      `${cgroup.dir}/${cgroup.v2 ? "memory.events" : "memory.oom_control"}`,
      "utf8",
    );
    const value = /^oom_kill (\d+)$/m.exec(text)?.[1];
    return value === undefined ? null : Number(value);
  } catch {
    return null;
  }
}

/** The most memory a cgroup has used so far (v1 max_usage_in_bytes, v2 memory.peak or memory.current), or null. */
export async function memoryPeak(cgroup: { dir: string; v2: boolean }): Promise<number | null> {
  const files = cgroup.v2 ? ["memory.peak", "memory.current"] : ["memory.max_usage_in_bytes"];
  for (const f of files) {
    try {
      const n = Number((await readFile(`${cgroup.dir}/${f}`, "utf8")).trim());
      if (Number.isFinite(n)) return n;
    } catch {
      // not on this kernel, or the cgroup is gone
    }
  }
  return null;
}

/** Nebula processes an earlier worker started for its jobs' overlays (their config lies under `dir`). */
export async function findOverlayProcesses(dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const prefix = `${dir.replace(/\/+$/, "")}/`;
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = (await readFile(`/proc/${name}/cmdline`, "utf8")).split("\0");
      if (/(^|\/)nebula$/.test(argv[0] ?? "") && argv.some((a) => a.startsWith(prefix))) {
        found.push(Number(name));
      }
    } catch {
      // gone already
    }
  }
  return found;
}
