import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { spawnAccessProcess } from "../access-process.js";
import type {
  AccessProcess,
  AccessRequest,
  CleanupReport,
  JobEnd,
  JobLaunch,
  JobRuntime,
  StartedJob,
} from "../job-runtime.js";
import { overlayDevice } from "../mesh/nebula-config.js";
import { joinOverlay, type OverlayNode } from "../mesh/overlay-node.js";
import {
  containerCreateArgs,
  containerName,
  DEVICE_LABEL,
  envFileText,
  type GpuGrant,
  JOB_LABEL,
  USERNS_SIZE,
  WORK_DIR,
} from "./container-args.js";
import type { Engine } from "./engine.js";
import { type CommandRunner, engineCwd, engineEnv, mustRun, runCommand } from "./exec.js";
import { applyFence, type FenceTool, hostAddresses, resolversOf } from "./fence.js";
import {
  findJobProcesses,
  findOverlayProcesses,
  killAll,
  memoryCgroupOf,
  memoryPeak,
  oomKills,
} from "./host-procs.js";
import { BUSYBOX_PATHS } from "./job-image.js";

/** How a worker's container runtime is set up. */
export interface ContainerRuntimeOptions {
  engine: Engine;
  fenceTool: FenceTool;
  /** The device whose jobs these are: its containers carry its id, so a restart finds exactly its own. */
  deviceId: string;
  /** Folder holding the jobs' scratch folders. */
  workDir: string;
  /** Folder (0700) for the jobs' env files while their containers are created. */
  secretsDir: string;
  /** Folder (0700) for the jobs' overlay configs (they hold host keys); none: jobs never join an overlay. */
  overlayDir?: string;
  /** The image of command jobs that name none (built offline by `ignis worker image build`). */
  jobImage: string;
  /** The user jobs run as inside their containers (never root). */
  user: string;
  /** Rootful podman: host uid of container uid 0 for this device's jobs (see uidBaseFor). */
  uidBase: number | null;
  /** Ranges the supplier lets jobs reach although they are private. */
  allowNetworks: string[];
  gpu: GpuGrant;
  /** How often the scratch folder's size is measured. */
  scratchCheckMs?: number;
  run?: CommandRunner;
  log?: (line: string) => void;
}

/**
 * A host uid range for the containers of one device under rootful podman: above the ranges /etc/subuid hands to
 * users (100000 + 65536 per user), one slot per device so two devices on one machine never share uids.
 */
export function uidBaseFor(deviceId: string): number {
  let h = 0;
  for (const ch of deviceId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 1_000_000_000 + (h % 10_000) * USERNS_SIZE;
}

interface JobState {
  id: string | null;
  holder: string | null;
  network: string | null;
  /** The job's network namespace (a path nsenter takes), once the container exists. */
  netns: string | null;
  /** Set once the job's process has ended: nothing more is opened in it. */
  done: boolean;
  cgroup: { dir: string; v2: boolean } | null;
  /** The folder the job's conmon runs in (podman): conmon marks an OOM kill there with an empty `oom` file. */
  monitorDir: string | null;
  oom: number;
  /** Highest memory use seen, in bytes. */
  peak: number;
  envFile: string | null;
  timers: NodeJS.Timeout[];
  /** The job's place on its cluster's overlay. */
  overlay: OverlayNode | null;
}

/**
 * How long a job killed by a SIGKILL nobody sent waits for conmon's OOM mark: conmon handles the kernel's OOM event
 * and the container's exit in one loop, in either order.
 */
const OOM_MARK_WAIT_MS = 2000;

/** Whether conmon marked an OOM kill in `dir`, looking again every 50 ms for up to `waitMs`. */
async function oomMarked(dir: string, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    if (existsSync(join(dir, "oom"))) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const signalNames = Object.fromEntries(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name]),
) as Record<number, string>;

/** How the container's exit code reads: 128+n after a signal (the init reports it so), else a plain code. */
export function exitOf(code: number | null): { code: number | null; signal: string | null } {
  if (code !== null && code > 128 && code < 128 + 65)
    return { code, signal: signalNames[code - 128] ?? null };
  return { code, signal: null };
}

/**
 * Jobs in containers (podman, or docker with user namespaces): each job gets a fresh container of its image (or
 * the default job image) with every isolation flag (container-args.ts), its network fenced from inside
 * (fence.ts), and the rental's limits. Cleanup removes the container, then looks for anything of it still alive
 * on the host, kills it and reports it.
 */
export function createContainerRuntime(options: ContainerRuntimeOptions): JobRuntime {
  const { engine } = options;
  const run = options.run ?? runCommand;
  const log = options.log ?? (() => undefined);
  const bin = engine.bin;
  const podman = engine.kind === "podman";
  const jobs = new Map<string, JobState>();
  const enter = podman && engine.rootless ? [bin, "unshare"] : [];

  const removeContainer = async (name: string) => {
    const args = podman ? ["rm", "--force", "--ignore", "--time", "0", name] : ["rm", "--force", name];
    await run(bin, args, { timeoutMs: 60_000 });
  };

  const listOwn = async (filter: string): Promise<string[]> => {
    const out = await run(bin, ["ps", "--all", "--quiet", "--no-trunc", "--filter", filter], {
      timeoutMs: 30_000,
    });
    return out.code === 0
      ? out.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
      : [];
  };

  const wipe = async (dir: string) => {
    if (enter.length > 0)
      await run(enter[0]!, [...enter.slice(1), "rm", "-rf", "--", dir], { timeoutMs: 120_000 });
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };

  const scratchKib = async (dir: string): Promise<number | null> => {
    const argv = [...enter, "du", "-sxk", "--", dir];
    const out = await run(argv[0]!, argv.slice(1), { timeoutMs: 60_000 });
    const kib = Number(out.stdout.trim().split(/\s+/)[0]);
    return out.code === 0 && Number.isFinite(kib) ? kib : null;
  };

  /** Docker has no step between creating a container and running it: a holder container owns the network. */
  const dockerNetworkHolder = async (launch: JobLaunch, state: JobState): Promise<string> => {
    const name = `ignis-net-${launch.jobId}`;
    state.holder = name;
    await mustRun(run, bin, [
      "run",
      "--detach",
      "--name",
      name,
      "--label",
      `${JOB_LABEL}=${launch.jobId}`,
      "--label",
      `${DEVICE_LABEL}=${options.deviceId}`,
      "--user",
      options.user,
      "--cap-drop=ALL",
      "--security-opt",
      "no-new-privileges",
      "--read-only",
      "--memory",
      "16m",
      "--pids-limit",
      "4",
      "--network",
      "bridge",
      ...launch.publishPorts.flatMap((p) => ["--publish", `${p}:${p}/tcp`]),
      "--pull",
      "never",
      "--",
      options.jobImage,
      "sleep",
      "2147483647",
    ]);
    return `container:${name}`;
  };

  /** Docker has no `:U` volume option: the scratch is handed to the job's remapped uid by hand. */
  const giveScratchToJobUser = async (dir: string) => {
    const remap = engine.dockerRemap;
    if (!remap) throw new Error("docker runs jobs only with userns-remap");
    const [uid = "1000", gid = uid] = options.user.split(":");
    await mustRun(run, "chown", ["-R", `${remap.uid + Number(uid)}:${remap.gid + Number(gid)}`, "--", dir]);
  };

  const inspect = async (id: string, format: string) =>
    (await mustRun(run, bin, ["inspect", "--format", format, id], { timeoutMs: 30_000 })).trim();

  const start = async (launch: JobLaunch): Promise<StartedJob> => {
    const state: JobState = {
      id: null,
      holder: null,
      network: null,
      netns: null,
      done: false,
      cgroup: null,
      monitorDir: null,
      oom: 0,
      peak: 0,
      envFile: null,
      timers: [],
      overlay: null,
    };
    jobs.set(launch.jobId, state);
    try {
      await mkdir(options.secretsDir, { recursive: true, mode: 0o700 });
      state.envFile = join(options.secretsDir, `${launch.jobId}.env`);
      const file = await open(state.envFile, "wx", 0o600);
      try {
        await file.writeFile(envFileText({ HOME: WORK_DIR, TMPDIR: "/tmp", ...launch.env }));
      } finally {
        await file.close();
      }
      if (!podman) await giveScratchToJobUser(launch.scratchDir);
      const network = podman ? null : await dockerNetworkHolder(launch, state);
      const remainingS = Math.ceil((launch.deadline - Date.now()) / 1000);
      const args = containerCreateArgs(engine, {
        jobId: launch.jobId,
        deviceId: options.deviceId,
        image: launch.image ?? options.jobImage,
        command: launch.command,
        args: launch.args,
        scratchDir: launch.scratchDir,
        envFile: state.envFile,
        limits: launch.limits,
        user: options.user,
        uidBase: options.uidBase,
        publishPorts: network ? [] : launch.publishPorts,
        gpu: options.gpu,
        // The engine ends the container a little after the rental even if this worker is gone by then.
        timeoutSeconds: Math.max(1, remainingS) + launch.limits.killGraceSeconds + 30,
        pull: launch.image ? "missing" : "never",
        ...(network ? { network } : {}),
      });
      // Pulling a customer's image may take a while; the rental's deadline bounds it.
      const created = await mustRun(run, bin, args, {
        timeoutMs: Math.max(30_000, launch.deadline - Date.now()),
      });
      state.id = created.trim().split("\n").pop()!.trim();
      await rm(state.envFile, { force: true });
      state.envFile = null;

      // The network fence goes in before the job's first instruction: podman creates the namespaces at `init`,
      // docker's holder container has them already.
      let netns: string;
      let pid: number;
      let resolvConfPath: string;
      if (podman) {
        // conmon starts with `init` and inherits its folder; the job's own one keeps its OOM mark apart.
        state.monitorDir = await mkdtemp(join(engineCwd(), "job-"));
        await mustRun(run, bin, ["init", state.id], { timeoutMs: 60_000, cwd: state.monitorDir });
        const [pidText = "", sandboxKey, resolv = ""] = (
          await inspect(state.id, "{{.State.Pid}}\t{{.NetworkSettings.SandboxKey}}\t{{.ResolvConfPath}}")
        ).split("\t");
        pid = Number(pidText);
        netns = sandboxKey || `/proc/${pid}/ns/net`;
        resolvConfPath = resolv;
      } else {
        const [pidText = "", resolv = ""] = (
          await inspect(state.holder!, "{{.State.Pid}}\t{{.ResolvConfPath}}")
        ).split("\t");
        pid = Number(pidText);
        netns = `/proc/${pid}/ns/net`;
        resolvConfPath = resolv;
      }
      state.netns = netns;
      const resolvers = resolversOf(await readFile(resolvConfPath, "utf8").catch(() => ""));
      await applyFence(
        run,
        options.fenceTool,
        netns,
        {
          resolvers,
          allowNetworks: options.allowNetworks,
          reach: launch.reach,
          hostAddresses: hostAddresses(),
          ...(launch.overlay
            ? { overlay: { dev: overlayDevice(launch.jobId), peers: launch.overlay.mesh.peers } }
            : {}),
        },
        enter,
      );
      // The overlay's tun joins the job's namespace before the job's first instruction, like the fence.
      if (launch.overlay) {
        if (!options.overlayDir || enter.length > 0) throw new Error("this worker cannot join overlays");
        state.overlay = await joinOverlay({
          jobId: launch.jobId,
          mesh: launch.overlay.mesh,
          lighthouseIp: launch.overlay.lighthouseIp,
          netns,
          pid,
          dir: join(options.overlayDir, launch.jobId),
          run,
          log,
        });
      }
      if (podman) state.cgroup = await memoryCgroupOf(pid);
    } catch (error) {
      await cleanupState(launch.jobId).catch(() => undefined);
      throw error;
    }

    const id = state.id!;
    const attach = spawn(bin, ["start", "--attach", id], {
      cwd: engineCwd(),
      env: engineEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let sandboxReason: JobEnd["reason"];
    let sandboxDetail: string | undefined;
    let stopping = false;
    let stopInFlight = false;
    const grace = launch.limits.killGraceSeconds;
    /** One stop: TERM, KILL after the grace, and a plain KILL when the engine's stop failed. */
    const stopOnce = async () => {
      if (stopInFlight || state.done) return;
      stopInFlight = true;
      try {
        const r = await run(bin, ["stop", "--time", String(grace), id], { timeoutMs: (grace + 30) * 1000 });
        if (r.code !== 0 && !state.done)
          await run(bin, ["kill", "--signal", "KILL", id], { timeoutMs: 30_000 });
      } finally {
        stopInFlight = false;
      }
    };
    /**
     * Stops the job and keeps stopping it until it has ended. One stop is not always enough: a stop that lands
     * while `start` has yet to start the container finds it `initialized`, podman answers 0 and leaves it
     * `exited`, and the pending `start --attach` then starts it anyway (so a customer's cancel, or the rental's
     * end, arriving in that window would be lost); and on a loaded host the engine's stop can time out.
     */
    const stopContainer = () => {
      if (stopping) return;
      stopping = true;
      void stopOnce();
      const again = setInterval(() => void stopOnce(), (grace + 2) * 1000);
      again.unref();
      state.timers.push(again);
    };
    const sampleOom = async () => {
      if (!state.cgroup) return;
      const [n, peak] = await Promise.all([oomKills(state.cgroup), memoryPeak(state.cgroup)]);
      if (n !== null && n > state.oom) state.oom = n;
      if (peak !== null && peak > state.peak) state.peak = peak;
    };
    // The cgroup disappears with the container, so its OOM count and peak use are sampled while the job runs.
    const oomTimer = setInterval(() => void sampleOom(), 100);
    oomTimer.unref();
    state.timers.push(oomTimer);
    const scratchTimer = setInterval(() => {
      void scratchKib(launch.scratchDir).then((kib) => {
        if (kib === null || kib * 1024 <= launch.limits.scratchBytes || sandboxReason) return;
        sandboxReason = "scratch_limit";
        sandboxDetail = `the scratch folder went over ${launch.limits.scratchBytes} bytes`;
        stopContainer();
      });
    }, options.scratchCheckMs ?? 5000);
    scratchTimer.unref();
    state.timers.push(scratchTimer);

    const attachExit = new Promise<number | null>((resolve) => {
      attach.once("error", () => resolve(null));
      attach.once("exit", (code) => resolve(code));
    });
    const closed = new Promise<void>((resolve) => {
      attach.once("error", () => resolve());
      attach.once("close", () => resolve());
    });
    const ended = (async (): Promise<JobEnd> => {
      const attachCode = await attachExit;
      state.done = true;
      await sampleOom();
      for (const t of state.timers) clearInterval(t);
      const [codeText = "", oomText = ""] = (
        await inspect(id, "{{.State.ExitCode}}\t{{.State.OOMKilled}}").catch(() => "")
      ).split("\t");
      const code = codeText === "" || Number(codeText) < 0 ? attachCode : Number(codeText);
      const end = exitOf(code);
      // The kernel's OOM kill shows as the engine's flag, conmon's mark in its folder (the engine's flag stays
      // false where conmon writes the mark in its working folder instead of where podman looks), the cgroup's
      // counter, or (when the counter vanished with the cgroup before its last read) a SIGKILL nobody sent to a job
      // that had reached its memory limit. The 100-ms samples alone missed a job killed between two of them on a
      // busy host; conmon's mark is written from the kernel's own OOM event, so it waits for no sample.
      const unsentKill = code === 137 && !stopping;
      const marked =
        code !== 0 && state.monitorDir !== null
          ? await oomMarked(state.monitorDir, unsentKill ? OOM_MARK_WAIT_MS : 0)
          : false;
      const killedAtLimit = unsentKill && state.peak >= launch.limits.memoryBytes * 0.9;
      if (
        !sandboxReason &&
        (oomText === "true" || marked || (state.oom > 0 && code !== 0) || killedAtLimit)
      ) {
        sandboxReason = "oom";
        sandboxDetail = `the job went over its memory limit of ${launch.limits.memoryBytes} bytes`;
      }
      return { ...end, reason: sandboxReason, detail: sandboxDetail };
    })();
    return {
      stdout: attach.stdout!,
      stderr: attach.stderr!,
      ended,
      closed,
      stop: stopContainer,
      overlay: state.overlay ?? undefined,
    };
  };

  /**
   * A customer's way into a running job: `exec` runs the command in the job's own container (its user, folder,
   * variables, limits and fence; a terminal with `tty`); `forward` connects to 127.0.0.1:PORT inside the job's
   * network namespace with the host's static busybox nc, entered with nsenter, so any image can be forwarded to.
   * Only a job this runtime started and that still runs is opened.
   */
  const openAccess = async (jobId: string, request: AccessRequest): Promise<AccessProcess> => {
    const state = jobs.get(jobId);
    if (!state?.id || state.done) throw new Error(`job ${jobId} is not running here`);
    if (request.kind === "exec") {
      const env = [
        ...(request.tty ? ["--env", "TERM=xterm-256color"] : []),
        ...(request.cols ? ["--env", `COLUMNS=${request.cols}`] : []),
        ...(request.rows ? ["--env", `LINES=${request.rows}`] : []),
      ];
      // The engine takes everything after the container as the command, verbatim (no `--` is needed or allowed).
      return spawnAccessProcess(
        bin,
        ["exec", "-i", ...(request.tty ? ["-t"] : []), ...env, state.id, ...request.argv],
        {
          cwd: engineCwd(),
          env: engineEnv(),
        },
      );
    }
    const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));
    if (!busybox || !state.netns) throw new Error("port forwarding needs busybox-static on the worker");
    const argv = [
      ...enter,
      "nsenter",
      `--net=${state.netns}`,
      busybox,
      "nc",
      "127.0.0.1",
      String(request.port),
    ];
    return spawnAccessProcess(argv[0]!, argv.slice(1), { cwd: engineCwd(), env: engineEnv() });
  };

  /** Removes a job's containers and files; returns what was found alive after removal. */
  const cleanupState = async (jobId: string): Promise<string[]> => {
    const state = jobs.get(jobId);
    for (const t of state?.timers ?? []) clearInterval(t);
    // The overlay goes first: its tun leaves with nebula, before the namespace it lives in.
    await state?.overlay?.stop();
    if (state?.envFile) await rm(state.envFile, { force: true }).catch(() => undefined);
    await removeContainer(containerName(jobId));
    if (state?.monitorDir)
      await rm(state.monitorDir, { recursive: true, force: true }).catch(() => undefined);
    if (state?.holder) await removeContainer(state.holder);
    const survivors: string[] = [];
    const left = await listOwn(`label=${JOB_LABEL}=${jobId}`);
    if (left.length > 0) {
      survivors.push(`container ${left.map((l) => l.slice(0, 12)).join(",")} still present after removal`);
      for (const id of left) await removeContainer(id);
    }
    const procs = await findJobProcesses({
      containerId: state?.id ?? undefined,
      uidRange:
        podman && !engine.rootless && options.uidBase !== null
          ? { first: options.uidBase, count: USERNS_SIZE }
          : undefined,
    });
    const killed = killAll(procs);
    if (killed.length > 0) {
      survivors.push(
        `process${killed.length > 1 ? "es" : ""} ${killed.map((p) => `${p.pid} (${p.command}, uid ${p.uid})`).join(", ")} alive after the container was removed`,
      );
    }
    jobs.delete(jobId);
    return survivors;
  };

  return {
    runner: `container:${engine.kind}`,
    sandboxed: true,
    simulatedOnly: false,
    start,
    openAccess,
    async cleanup(jobId: string, scratchDir: string): Promise<CleanupReport> {
      const survivors = await cleanupState(jobId);
      await wipe(scratchDir);
      return { survivors };
    },
    async sweep() {
      const removed: string[] = [];
      for (const id of await listOwn(`label=${DEVICE_LABEL}=${options.deviceId}`)) {
        await removeContainer(id);
        removed.push(`container ${id.slice(0, 12)}`);
      }
      if (podman && !engine.rootless && options.uidBase !== null) {
        const killed = killAll(
          await findJobProcesses({ uidRange: { first: options.uidBase, count: USERNS_SIZE } }),
        );
        for (const p of killed) removed.push(`process ${p.pid} (${p.command})`);
      }
      if (options.overlayDir) {
        for (const pid of await findOverlayProcesses(options.overlayDir)) {
          try {
            process.kill(pid, "SIGKILL");
            removed.push(`overlay process ${pid}`);
          } catch {
            // gone already
          }
        }
      }
      for (const dir of [
        options.workDir,
        options.secretsDir,
        ...(options.overlayDir ? [options.overlayDir] : []),
      ]) {
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const n of names) {
          await wipe(join(dir, n));
          removed.push(`leftover ${join(dir, n)}`);
        }
      }
      if (removed.length > 0) log(`sandbox: removed what an earlier worker left: ${removed.join("; ")}`);
      return removed;
    },
  };
}
