import type { DeviceView } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Prover } from "../../apps/cli/src/prover/prover.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import {
  honestProver,
  type ProofWorld,
  type SimulatedDevice,
  startProofWorld,
  verified,
} from "./proof-fixture.js";

/** An honest prover at the profile's speed whose worker does not announce `proof-vram` (as the CUDA prover). */
function speedOnlyProver(profile: string): Prover {
  const inner = honestProver(profile);
  return {
    name: "speed only",
    commit: (challenge) => inner.commit(challenge),
    reveal: (request) => inner.reveal(request),
    close: () => inner.close(),
  };
}

/**
 * A device whose worker has no memory phase is verified on speed alone; its views must say that its claimed
 * memory is unproven, so a demanding customer can tell, while a device that passed the memory phase shows it
 * proven to its owner and to the public.
 */
describeEachDialect("whether a device's memory is proven", (database) => {
  let w: ProofWorld;
  let full: SimulatedDevice;
  let speedOnly: SimulatedDevice;

  beforeAll(async () => {
    w = await startProofWorld(database());
    full = await w.device({ profile: "sim-h100" });
    speedOnly = await w.device({ profile: "sim-h100", prover: speedOnlyProver("sim-h100") });
    await w.until(full.deviceId, verified);
    await w.until(speedOnly.deviceId, verified);
    await w.t.server.ctx.proof.settled();
  });
  afterAll(() => w.stop());

  const owner = async (deviceId: string) =>
    (await call<DeviceView>(w.t, "GET", `/v1/devices/${deviceId}`, w.supplierKey)).body;

  it("shows memory proven, with when, to the owner and the public of a device that passed the memory phase", async () => {
    const view = await owner(full.deviceId);
    // A simulated H100 claims 80 GB on one GPU.
    expect(view.memory).toMatchObject({ claimedMiB: 80 * 1024, proven: true, workerProvesMemory: true });
    expect(Date.parse(view.memory!.provenAt!)).not.toBeNaN();
    const open = await w.publicView(full.deviceId);
    // The public learns that it is proven, never when (exact check times would line an owner's devices up).
    expect(open.memory).toEqual({ claimedMiB: 80 * 1024, proven: true });
  });

  it("shows a verified device whose worker has no memory phase as verified with unproven memory", async () => {
    const view = await owner(speedOnly.deviceId);
    expect(view.verification).toBe("verified");
    expect(view.memory).toEqual({
      claimedMiB: 80 * 1024,
      proven: false,
      provenAt: null,
      workerProvesMemory: false,
    });
    const open = await w.publicView(speedOnly.deviceId);
    expect(open.verification).toBe("verified");
    expect(open.memory).toEqual({ claimedMiB: 80 * 1024, proven: false });
  });

  it("shows the same in the explorer's list", async () => {
    const res = await call<{ items: { id: string; memory: { proven: boolean } }[] }>(
      w.t,
      "GET",
      "/v1/explorer/devices",
      undefined,
    );
    const proven = new Map(res.body.items.map((d) => [d.id, d.memory.proven]));
    expect(proven.get(full.deviceId)).toBe(true);
    expect(proven.get(speedOnly.deviceId)).toBe(false);
  });
});
