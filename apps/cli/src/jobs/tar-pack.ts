import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";

/** A file to put in an archive. */
export interface PackEntry {
  path: string;
  data: string | Buffer;
  mode?: number;
}

const BLOCK = 512;

function header(path: string, size: number, mode: number, type: "0" | "L"): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(path.slice(0, 100), 0, "utf8");
  h.write(`${mode.toString(8).padStart(7, "0")}\0`, 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  h.write("        ", 148);
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest)];
}

/** A tar stream (ustar, with GNU long names) of regular files. */
export function tarOf(entries: PackEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = typeof entry.data === "string" ? Buffer.from(entry.data) : entry.data;
    const name = Buffer.from(entry.path);
    if (name.length > 100) {
      parts.push(
        header("././@LongLink", name.length + 1, 0o644, "L"),
        ...padded(Buffer.concat([name, Buffer.alloc(1)])),
      );
    }
    parts.push(header(entry.path, data.length, entry.mode ?? 0o644, "0"), ...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** Packs a directory's regular files (symlinks and special files are left out) into a gzip'd tar. */
export function packDirectory(dir: string): Buffer {
  const entries: PackEntry[] = [];
  const walk = (current: string) => {
    for (const name of readdirSync(current).sort()) {
      const full = join(current, name);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        entries.push({
          path: relative(dir, full).split(sep).join("/"),
          data: readFileSync(full),
          mode: st.mode & 0o755,
        });
      }
    }
  };
  walk(dir);
  return gzipSync(tarOf(entries));
}
