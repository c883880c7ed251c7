import { createHash } from "node:crypto";
import { IgnisError, releasePackagePath, type WorkerReleaseView } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/**
 * Signed worker releases: the package bytes live in the database, so every replica serves them. The server
 * stores what an admin uploads and never checks or vouches for the signature itself: workers check it against the
 * release key pinned in them, which the server cannot change.
 */

/** A stored release without its bytes. */
export interface WorkerRelease {
  version: string;
  sha256: string;
  signature: string;
  size: number;
  notes: string | null;
  createdAt: Date;
}

const columns = ["version", "sha256", "signature", "size", "notes", "created_at"] as const;

/** The admin view of a release. */
export function releaseView(release: WorkerRelease): WorkerReleaseView {
  return {
    version: release.version,
    sha256: release.sha256,
    signature: release.signature,
    size: release.size,
    url: releasePackagePath(release.version),
    notes: release.notes,
    createdAt: release.createdAt.toISOString(),
  };
}

/** Stores a release; a version is stored once (`conflict` when it exists). */
export async function insertRelease(
  db: Db,
  input: { version: string; bytes: Buffer; signature: string; notes?: string | undefined; createdBy: string },
): Promise<WorkerRelease> {
  const existing = await db
    .selectFrom("worker_releases")
    .select("version")
    .where("version", "=", input.version)
    .executeTakeFirst();
  if (existing)
    throw new IgnisError("conflict", `release ${input.version} exists; a version is never replaced`);
  const row = await db
    .insertInto("worker_releases")
    .values({
      version: input.version,
      sha256: createHash("sha256").update(input.bytes).digest("hex"),
      signature: input.signature,
      size: input.bytes.length,
      package: input.bytes,
      notes: input.notes ?? null,
      created_by: input.createdBy,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return fromRow(row);
}

/** A release by version, or undefined. */
export async function findRelease(db: Db, version: string): Promise<WorkerRelease | undefined> {
  const row = await db
    .selectFrom("worker_releases")
    .select(columns)
    .where("version", "=", version)
    .executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** Every release, newest first. */
export async function listReleases(db: Db): Promise<WorkerRelease[]> {
  const rows = await db.selectFrom("worker_releases").select(columns).orderBy("created_at", "desc").execute();
  return rows.map(fromRow);
}

/** The package bytes of a release, or undefined. */
export async function releasePackage(db: Db, version: string): Promise<Buffer | undefined> {
  const row = await db
    .selectFrom("worker_releases")
    .select("package")
    .where("version", "=", version)
    .executeTakeFirst();
  return row ? Buffer.from(row.package) : undefined;
}

function fromRow(row: {
  version: string;
  sha256: string;
  signature: string;
  size: number;
  notes: string | null;
  created_at: Date;
}): WorkerRelease {
  return {
    version: row.version,
    sha256: row.sha256,
    signature: row.signature,
    size: row.size,
    notes: row.notes,
    createdAt: new Date(row.created_at),
  };
}
