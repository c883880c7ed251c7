import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { countryInput, isCountryCode, regionOfCountry } from "./countries.js";
import { createIpCountry } from "./ip-country.js";

// Addresses are taken from the GeoIP package's own ranges, so the test follows the database as it is updated.
const dir = dirname(createRequire(import.meta.url).resolve("@ip-location-db/dbip-country/package.json"));

/** The first `start,end,CC` row of `file` for `country` in ordinary unicast space (not benchmarking, ...). */
function rangeOf(file: string, country: string): [string, string] {
  const text = readFileSync(join(dir, file), "latin1");
  const unicast = (start: string) => /^\d+$/.test(start) || ipaddr.parse(start).range() === "unicast";
  const line = text.split("\n").find((l) => l.trim().endsWith(`,${country}`) && unicast(l.split(",")[0]!));
  if (!line) throw new Error(`no ${country} range in ${file}`);
  const [start, end] = line.split(",");
  return [start!, end!];
}
const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

describe("country of an address (DB-IP country lite)", () => {
  const geo = createIpCountry(dir);

  it("locates IPv4 addresses at the edges and inside their ranges", async () => {
    for (const cc of ["DE", "JP", "US", "BR", "KE"]) {
      const [start, end] = rangeOf("dbip-country-ipv4-num.csv", cc).map(Number) as [number, number];
      for (const n of [start, end, Math.floor((start + end) / 2)]) {
        expect(await geo.countryOf(v4(n))).toBe(cc);
      }
    }
  });

  it("locates IPv6 addresses, and IPv4-mapped IPv6 as their IPv4", async () => {
    for (const cc of ["DE", "JP", "US"]) {
      const [start] = rangeOf("dbip-country-ipv6.csv", cc);
      expect(await geo.countryOf(start.replace(/::$/, "::1"))).toBe(cc);
    }
    const [start] = rangeOf("dbip-country-ipv4-num.csv", "FR").map(Number) as [number];
    expect(await geo.countryOf(`::ffff:${v4(start)}`)).toBe("FR");
  });

  it("gives null for loopback, private, CGNAT, documentation and malformed addresses", async () => {
    for (const ip of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "192.168.1.20",
      "172.16.0.9",
      "100.64.0.1",
      "169.254.1.1",
      "203.0.113.7",
      "2001:db8::1",
      "fd00::1",
      "fe80::1",
      "::ffff:10.0.0.1",
      "not an address",
      "",
    ]) {
      expect(await geo.countryOf(ip)).toBeNull();
    }
  });

  it("maps countries to the explorer's regions and checks what callers type", () => {
    expect(regionOfCountry("DE")).toBe("europe");
    expect(regionOfCountry("US")).toBe("north-america");
    expect(regionOfCountry("BR")).toBe("south-america");
    expect(regionOfCountry("JP")).toBe("asia-pacific");
    expect(regionOfCountry("AE")).toBe("middle-east");
    expect(regionOfCountry("KE")).toBe("africa");
    expect(regionOfCountry("AU")).toBe("oceania");
    expect(regionOfCountry("XX")).toBe("unknown");
    expect(isCountryCode("de")).toBe(false);
    expect(countryInput(" de ")).toBe("DE");
    expect(countryInput(null)).toBeNull();
    for (const bad of ["XX", "DEU", "", "D", "d\u0000"]) {
      expect(() => countryInput(bad)).toThrow(expect.objectContaining({ code: "invalid_country" }));
    }
  });
});
