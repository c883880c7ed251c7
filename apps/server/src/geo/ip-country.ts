import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ipaddr from "ipaddr.js";
import { isPublicAddress } from "../security/alert-webhook.js";

// Country of a public IP address, from DB-IP's "IP to Country Lite" database as the npm package
// @ip-location-db/dbip-country ships it (CSV, updated monthly, CC BY 4.0: the explorer shows the attribution).
// Nothing is fetched at run time. Ranges are kept in typed arrays and found by binary search:
// IPv4 by their 32-bit numbers, IPv6 by their upper 64 bits (two 32-bit halves), which is exact for every range
// the database holds, as no allocation is smaller than a /64.

/** The attribution the database's licence asks for wherever its results are shown. */
export const GEOIP_ATTRIBUTION = {
  text: "IP Geolocation by DB-IP",
  url: "https://db-ip.com",
  licence: "CC BY 4.0",
} as const;

/** Rows parsed between two yields to the event loop, so loading never stalls sessions or requests. */
const ROWS_PER_SLICE = 20_000;

interface RangeTable {
  /** Range starts and ends; for IPv6 two entries per row (high then low 32 bits of the upper 64). */
  starts: Uint32Array;
  ends: Uint32Array;
  /** Index into `codes` per row. */
  country: Uint16Array;
  rows: number;
}

interface Tables {
  v4: RangeTable;
  v6: RangeTable;
  codes: string[];
}

/** Finds the country of an address; `null` for private, loopback, reserved and unlisted addresses. */
export interface IpCountry {
  /** Resolves once the database is in memory (it is read on the first public address). */
  countryOf(ip: string): Promise<string | null>;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function packageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("@ip-location-db/dbip-country/package.json"));
}

/**
 * Parses one CSV of `start,end,CC` lines, with `parse` writing a start or end (the text between two offsets) as
 * `width` 32-bit words. Scans the text by offsets, without splitting it into strings, as it has ~350k lines.
 */
async function parseTable(
  text: Buffer,
  width: 1 | 2,
  parse: (text: Buffer, from: number, to: number, out: Uint32Array, at: number) => boolean,
  codeIndex: (code: number) => number,
): Promise<RangeTable> {
  let capacity = 1 << 16;
  let starts = new Uint32Array(capacity * width);
  let ends = new Uint32Array(capacity * width);
  let country = new Uint16Array(capacity);
  let rows = 0;
  let pos = 0;
  let sinceYield = 0;
  while (pos < text.length) {
    let eol = text.indexOf(NEWLINE, pos);
    if (eol < 0) eol = text.length;
    const comma1 = text.indexOf(COMMA, pos);
    const comma2 = comma1 < 0 ? -1 : text.indexOf(COMMA, comma1 + 1);
    const line = pos;
    pos = eol + 1;
    if (comma1 < 0 || comma2 < 0 || comma2 >= eol) continue;
    if (rows === capacity) {
      capacity *= 2;
      const grow = <T extends Uint32Array | Uint16Array>(a: T, n: number): T => {
        const b = new (a.constructor as new (n: number) => T)(n);
        b.set(a);
        return b;
      };
      starts = grow(starts, capacity * width);
      ends = grow(ends, capacity * width);
      country = grow(country, capacity);
    }
    if (
      !parse(text, line, comma1, starts, rows * width) ||
      !parse(text, comma1 + 1, comma2, ends, rows * width)
    ) {
      continue;
    }
    country[rows] = codeIndex(text[comma2 + 1]! * 256 + text[comma2 + 2]!);
    rows++;
    if (++sinceYield === ROWS_PER_SLICE) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
  return { starts, ends, country, rows };
}

function parseV4Number(text: Buffer, from: number, to: number, out: Uint32Array, at: number): boolean {
  let n = 0;
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const d = text[i]! - 48;
    if (d < 0 || d > 9) return false;
    n = n * 10 + d;
  }
  if (n > 0xffff_ffff) return false;
  out[at] = n;
  return true;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const NEWLINE = 10;
const COMMA = 44;
const COLON = 58;
const v6Head = new Uint16Array(8);
const v6Tail = new Uint16Array(8);
const v6Upper = new Uint16Array(4);

/** The upper 64 bits of a textual IPv6 address (no embedded IPv4, as the database writes them) as two words. */
function parseV6Upper(text: Buffer, from: number, to: number, out: Uint32Array, at: number): boolean {
  let heads = 0;
  let tails = -1; // -1 until a '::' is seen
  let value = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text[i]! : COLON;
    if (c === COLON) {
      if (digits > 0) {
        if (tails < 0) {
          if (heads === 8) return false;
          v6Head[heads++] = value;
        } else {
          if (heads + tails === 7) return false;
          v6Tail[tails++] = value;
        }
        value = 0;
        digits = 0;
      } else if (i === to) {
        // the address ends with '::'
      } else if (i > from && text[i - 1] === COLON) {
        if (tails >= 0) return false; // a second '::'
        tails = 0;
      } else if (i !== from || text[i + 1] !== COLON) return false;
      continue;
    }
    const d = hexDigit(c);
    if (d < 0 || ++digits > 4) return false;
    value = (value << 4) | d;
  }
  const zeros = 8 - heads - Math.max(tails, 0);
  if (tails < 0 ? heads !== 8 : zeros < 1) return false;
  // Words 0-3 of the eight: from the head, then the zeros of '::', then the tail.
  for (let k = 0; k < 4; k++) {
    v6Upper[k] = k < heads ? v6Head[k]! : k < heads + zeros ? 0 : v6Tail[k - heads - zeros]!;
  }
  out[at] = ((v6Upper[0]! << 16) | v6Upper[1]!) >>> 0;
  out[at + 1] = ((v6Upper[2]! << 16) | v6Upper[3]!) >>> 0;
  return true;
}

/** Compares the key (width words at `key`) with row `i` of `words`: <0, 0 or >0. */
function compare(words: Uint32Array, i: number, key: Uint32Array, width: number): number {
  for (let w = 0; w < width; w++) {
    const a = key[w]!;
    const b = words[i * width + w]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

function find(table: RangeTable, key: Uint32Array, width: 1 | 2): number {
  // The last row whose start is <= key.
  let lo = 0;
  let hi = table.rows - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(table.starts, mid, key, width) >= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0 || compare(table.ends, found, key, width) > 0) return -1;
  return table.country[found]!;
}

async function loadTables(dir: string): Promise<Tables> {
  // A country code is two ASCII letters, keyed here by their char codes (first * 256 + second).
  const codes: string[] = [];
  const index = new Map<number, number>();
  const codeIndex = (code: number) => {
    let i = index.get(code);
    if (i === undefined) {
      i = codes.length;
      codes.push(String.fromCharCode(code >> 8, code & 255));
      index.set(code, i);
    }
    return i;
  };
  const [v4Text, v6Text] = await Promise.all([
    readFile(join(dir, "dbip-country-ipv4-num.csv")),
    readFile(join(dir, "dbip-country-ipv6.csv")),
  ]);
  const v4 = await parseTable(v4Text, 1, parseV4Number, codeIndex);
  const v6 = await parseTable(v6Text, 2, parseV6Upper, codeIndex);
  return { v4, v6, codes };
}

function lookup(tables: Tables, parsed: ipaddr.IPv4 | ipaddr.IPv6): string | null {
  const key = new Uint32Array(2);
  let row: number;
  if (parsed.kind() === "ipv4") {
    const b = (parsed as ipaddr.IPv4).octets;
    key[0] = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    row = find(tables.v4, key, 1);
  } else {
    const p = (parsed as ipaddr.IPv6).parts;
    key[0] = ((p[0]! << 16) | p[1]!) >>> 0;
    key[1] = ((p[2]! << 16) | p[3]!) >>> 0;
    row = find(tables.v6, key, 2);
  }
  const code = row < 0 ? undefined : tables.codes[row]; // `find` answers the row's index into `codes`
  // DB-IP marks a few ranges "ZZ" (unknown).
  return code && /^[A-Z]{2}$/.test(code) && code !== "ZZ" ? code : null;
}

/**
 * The country lookup of this process. The database (about 30 MB of CSV, ~0.8 s of CPU once) is read the first time a public address
 * is looked up, in slices between which the event loop runs; private and loopback addresses never load it, so a
 * test server or a LAN deployment pays nothing.
 */
export function createIpCountry(dir: string = packageDir()): IpCountry {
  let tables: Promise<Tables> | undefined;
  return {
    async countryOf(ip) {
      if (!ipaddr.isValid(ip)) return null;
      // An IPv4-mapped IPv6 address is judged and looked up as the IPv4 address it carries.
      const parsed = ipaddr.process(ip);
      if (!isPublicAddress(parsed.toString())) return null;
      tables ??= loadTables(dir);
      // A database that cannot be read leaves every device `unknown` rather than failing its session.
      const loaded = await tables.catch(() => undefined);
      return loaded ? lookup(loaded, parsed) : null;
    },
  };
}

let shared: IpCountry | undefined;

/** One lookup per process: every server in it shares the tables. */
export function sharedIpCountry(): IpCountry {
  shared ??= createIpCountry();
  return shared;
}
