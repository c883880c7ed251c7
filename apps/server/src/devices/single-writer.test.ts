import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("..", import.meta.url));
/** Where device rows may be written: the devices module, and the fixtures' helper in testing/. */
const WRITERS = ["devices/", "testing/device-rows.ts"];
/** A write to the devices or device_keys table, through Kysely or in raw SQL. */
const WRITE =
  /(?:updateTable|insertInto|deleteFrom)\(\s*["'`](?:devices|device_keys)\b|\b(?:update|insert\s+into|delete\s+from)\s+(?:devices|device_keys)\b/i;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("the devices module as the only writer of device state", () => {
  it("finds no module outside devices/ that writes the devices or device_keys table", () => {
    const offenders = sources(SRC)
      .map((path) => relative(SRC, path).replaceAll("\\", "/"))
      .filter((path) => !WRITERS.some((w) => path.startsWith(w)) && !path.startsWith("db/migrations/"))
      .flatMap((path) =>
        readFileSync(join(SRC, path), "utf8")
          .split("\n")
          .flatMap((line, i) => (WRITE.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(offenders).toEqual([]);
  });

  it("recognises the ways a write is spelled, so a new one cannot slip past", () => {
    for (const write of [
      'db.updateTable("devices")',
      "trx.insertInto('device_keys')",
      'deleteFrom( "devices")',
      "sql`update devices set status = 'offline'`",
      "insert into devices (id) values",
    ]) {
      expect(WRITE.test(write), write).toBe(true);
    }
    expect(WRITE.test('db.selectFrom("devices")')).toBe(false);
    expect(WRITE.test('.innerJoin("devices as d", "d.id", "u.device_id")')).toBe(false);
  });
});
