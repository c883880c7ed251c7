import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import { gunzipSync } from "node:zlib";

/** Default cap on what a job's working-directory archive may unpack to. */
export const DEFAULT_UNPACK_LIMIT_BYTES = 256 * 1024 * 1024;

const BLOCK = 512;

/** One entry of a tar archive that the job's working directory may hold. */
export interface TarEntry {
  path: string;
  kind: "file" | "directory" | "skipped";
  mode: number;
  data: Buffer;
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

/** A relative path that stays inside the scratch directory, or null for `..`, absolute or empty names. */
export function safeRelativePath(name: string): string | null {
  const cleaned = name.replace(/^\.\/+/, "");
  if (cleaned === "" || cleaned.startsWith("/") || cleaned.includes("\0")) return null;
  const normal = normalize(cleaned);
  if (normal === "." || normal.startsWith("..") || normal.split(sep).includes("..")) return null;
  return normal;
}

/**
 * Reads a ustar/GNU/pax tar stream. Only regular files and directories are kept: links and devices are skipped,
 * so no entry can point outside the scratch directory.
 */
export function readTar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 48);
    const dataStart = offset + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    if (type === "x") {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (path?.[1]) longName = path[1];
      continue;
    }
    if (type === "g") continue;
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = null;
    const kind =
      type === "0" || type === "\0" || type === "7" ? "file" : type === "5" ? "directory" : "skipped";
    entries.push({ path: name, kind, mode: octal(header, 100, 8) & 0o755, data: Buffer.from(data) });
  }
  return entries;
}

/** Unpacks a base64 tar.gz into `dir`, refusing archives that inflate past `limitBytes`. */
export async function unpackArchive(
  base64: string,
  dir: string,
  limitBytes = DEFAULT_UNPACK_LIMIT_BYTES,
): Promise<{ files: number; skipped: string[] }> {
  let tar: Buffer;
  try {
    tar = gunzipSync(Buffer.from(base64, "base64"), { maxOutputLength: limitBytes });
  } catch (cause) {
    throw new Error(`the working-directory archive is not a tar.gz within ${limitBytes} bytes`, { cause });
  }
  let files = 0;
  const skipped: string[] = [];
  for (const entry of readTar(tar)) {
    const rel = safeRelativePath(entry.path);
    if (!rel || entry.kind === "skipped") {
      skipped.push(entry.path);
      continue;
    }
    const target = join(dir, rel);
    if (entry.kind === "directory") {
      await mkdir(target, { recursive: true, mode: 0o700 });
      continue;
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, entry.data, { mode: entry.mode | 0o600 });
    files++;
  }
  return { files, skipped };
}
