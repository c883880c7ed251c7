import { z } from "zod";
import { WorkerVersion } from "./worker-versions.js";

/**
 * Signed worker releases and the staged rollouts that offer them. A release is a gzipped tarball; its detached
 * Ed25519 signature covers the release signing text (version and SHA-256), so a package can be neither altered
 * nor passed off as another version. Workers check it against the release key pinned in the installed worker;
 * the server only stores and relays what the release key signed and can never change which key is trusted.
 */

/** What the release key signs: the version and the lowercase hex SHA-256 of the package. */
export function releaseSigningText(version: string, sha256: string): string {
  return `ignis-release-v1\n${version}\n${sha256}`;
}

/** Lowercase hex SHA-256. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected lowercase hex SHA-256");
/** An Ed25519 signature, base64url without padding. */
export const ReleaseSignature = z
  .string()
  .regex(/^[A-Za-z0-9_-]{86}$/, "expected a base64url Ed25519 signature");

/** Where a released package lives on the server (public: the package is signed, not secret). */
export function releasePackagePath(version: string): string {
  return `/v1/worker/releases/${encodeURIComponent(version)}/package`;
}

/** `POST /v1/admin/worker-releases`: a signed package, base64, uploaded by an admin. */
export const CreateWorkerReleaseRequest = z.strictObject({
  version: WorkerVersion,
  /** The gzipped tarball, base64 (at most 48 MiB decoded). */
  packageBase64: z
    .string()
    .min(4)
    .max(64 * 1024 * 1024)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "expected base64"),
  signature: ReleaseSignature,
  notes: z.string().max(2000).optional(),
});
/** A parsed `CreateWorkerReleaseRequest`. */
export type CreateWorkerReleaseRequest = z.infer<typeof CreateWorkerReleaseRequest>;

/** A stored release as admins see it (the bytes are at `url`). */
export const WorkerReleaseView = z.object({
  version: WorkerVersion,
  sha256: Sha256Hex,
  signature: ReleaseSignature,
  size: z.int(),
  url: z.string(),
  notes: z.string().nullable(),
  createdAt: z.string(),
});
/** A parsed `WorkerReleaseView`. */
export type WorkerReleaseView = z.infer<typeof WorkerReleaseView>;

/** `POST /v1/admin/worker-rollouts`: offer `version` to a growing share of the fleet, stage by stage. */
export const CreateWorkerRolloutRequest = z.strictObject({
  version: WorkerVersion,
  /** Share of the fleet (by a hash of the device id) offered the release at the first stage. */
  percent: z.int().min(1).max(100),
  /** Pause once more than this share (basis points) of the offered devices failed to come back. Default 1000. */
  failureThresholdBps: z.int().min(0).max(10_000).optional(),
  /** Seconds an offered device has to come back online on the release before it counts as failed. Default 600. */
  comebackSeconds: z.int().min(5).max(86_400).optional(),
});
/** A parsed `CreateWorkerRolloutRequest`. */
export type CreateWorkerRolloutRequest = z.infer<typeof CreateWorkerRolloutRequest>;

/** `PATCH /v1/admin/worker-rollouts/{id}`: pause, resume, widen to the next stage, or finish. */
export const UpdateWorkerRolloutRequest = z.strictObject({
  status: z.enum(["running", "paused", "done"]).optional(),
  percent: z.int().min(1).max(100).optional(),
});
/** A parsed `UpdateWorkerRolloutRequest`. */
export type UpdateWorkerRolloutRequest = z.infer<typeof UpdateWorkerRolloutRequest>;

/** A rollout as admins see it, with its counts so far. */
export const WorkerRolloutView = z.object({
  id: z.string(),
  version: WorkerVersion,
  percent: z.int(),
  failureThresholdBps: z.int(),
  comebackSeconds: z.int(),
  status: z.enum(["running", "paused", "done"]),
  pausedReason: z.string().nullable(),
  counts: z.object({ offered: z.int(), updated: z.int(), failed: z.int() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** A parsed `WorkerRolloutView`. */
export type WorkerRolloutView = z.infer<typeof WorkerRolloutView>;
