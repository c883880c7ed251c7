import { parseArgs } from "node:util";
import { type Command, UsageError } from "../command.js";
import { detectEngine } from "../jobs/sandbox/engine.js";
import { buildJobImage } from "../jobs/sandbox/job-image.js";
import { DEFAULT_JOB_IMAGE } from "../jobs/sandbox/sandbox-config.js";

const OPTIONS = { tag: { type: "string" }, busybox: { type: "string" }, engine: { type: "string" } } as const;

/** `ignis worker image build`: makes the default job image offline from busybox-static. */
export const command: Command = {
  path: ["worker", "image", "build"],
  summary: "make the default job image offline (busybox-static, podman/docker import)",
  usage:
    "usage: ignis worker image build [--tag IMAGE] [--busybox PATH] [--engine podman|docker]\n" +
    `  --tag      the image to make; default ${DEFAULT_JOB_IMAGE} (what jobs without an image run in)\n` +
    "  --busybox  a static busybox binary; default /bin/busybox (apt-get install -y busybox-static)",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    const { values } = parse(argv);
    const prefer = values.engine ?? "auto";
    if (prefer !== "auto" && prefer !== "podman" && prefer !== "docker") {
      throw new UsageError("--engine is podman or docker");
    }
    const engine = await detectEngine(prefer);
    if (typeof engine === "string") throw new Error(`${engine}; install one: apt-get install -y podman runc`);
    const built = await buildJobImage({
      engine,
      tag: values.tag ?? DEFAULT_JOB_IMAGE,
      ...(values.busybox ? { busybox: values.busybox } : {}),
    });
    process.stdout.write(`Built ${built.tag} with ${engine.kind} (busybox, ${built.applets} applets).\n`);
    return 0;
  },
};

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
