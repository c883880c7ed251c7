import type { ExplorerMap, MapRegion } from "@ignis/protocol";
import { geoEqualEarth, geoPath } from "d3-geo";
import { alpha2ToNumeric } from "i18n-iso-countries";
import { useEffect, useMemo, useState } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { count } from "../lib/format";
import { useApi } from "../lib/use-api";
import { ResourceView } from "./states";

const WIDTH = 960;
const HEIGHT = 470;

interface CountryShape {
  id: string;
  name: string;
  d: string;
}

/**
 * Country outlines from world-atlas (Natural Earth, 1:110m), projected once with d3-geo's Equal Earth projection.
 * The atlas is loaded on demand, so pages without the map never download it.
 */
function useCountryShapes(): CountryShape[] | undefined {
  const [shapes, setShapes] = useState<CountryShape[]>();
  useEffect(() => {
    let live = true;
    import("world-atlas/countries-110m.json").then((mod) => {
      const topology = (mod.default ?? mod) as unknown as Topology<{
        countries: GeometryCollection<{ name: string }>;
      }>;
      const collection = feature(topology, topology.objects.countries);
      const projection = geoEqualEarth().fitSize([WIDTH, HEIGHT], collection);
      const path = geoPath(projection);
      const out = collection.features.map((f) => ({
        id: String(f.id ?? ""),
        name: f.properties?.name ?? "",
        d: path(f) ?? "",
      }));
      if (live) setShapes(out);
    });
    return () => {
      live = false;
    };
  }, []);
  return shapes;
}

function gpuTotal(r: MapRegion): number {
  return Object.values(r.gpus).reduce((a, b) => a + b, 0);
}

/** Fill for a country with `gpus` GPUs, on a log scale up to the busiest country. */
function shade(gpus: number, max: number): string {
  if (gpus <= 0) return "var(--map-empty)";
  const t = Math.log1p(gpus) / Math.log1p(Math.max(max, 1));
  return `color-mix(in srgb, var(--accent) ${Math.round(25 + 75 * t)}%, var(--map-empty))`;
}

/** The explorer's world map: GPUs per country, with a table that says the same in text. */
export function NetworkMap() {
  const map = useApi<ExplorerMap>("/v1/explorer/map", { pollMs: 15_000 });
  return (
    <div className="panel" data-testid="network-map">
      <h2>Where the GPUs are</h2>
      <ResourceView {...map} what="Loading the network map" onRetry={map.reload}>
        {(m) => <MapBody map={m} />}
      </ResourceView>
    </div>
  );
}

function MapBody({ map }: { map: ExplorerMap }) {
  const shapes = useCountryShapes();
  const byNumeric = useMemo(() => {
    const out = new Map<string, MapRegion>();
    for (const r of map.regions) {
      const numeric = r.country ? alpha2ToNumeric(r.country) : undefined;
      if (numeric) out.set(numeric, r);
    }
    return out;
  }, [map]);
  const nameOf = useMemo(() => {
    const names = new Map<string, string>();
    for (const s of shapes ?? []) names.set(s.id, s.name);
    return (r: MapRegion) => {
      if (!r.country) return `Unknown country (${r.region})`;
      const numeric = alpha2ToNumeric(r.country);
      return (numeric && names.get(numeric)) || r.country;
    };
  }, [shapes]);
  const max = Math.max(0, ...map.regions.map(gpuTotal));

  return (
    <>
      <div className="map-frame">
        {shapes ? (
          <svg
            viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
            role="img"
            aria-label="World map of GPUs per country"
            data-testid="map-svg"
          >
            {shapes.map((s) => {
              const r = byNumeric.get(s.id);
              const gpus = r ? gpuTotal(r) : 0;
              return (
                <path
                  key={`${s.id}-${s.name}`}
                  d={s.d}
                  style={{ fill: shade(gpus, max) }}
                  className="map-country"
                  data-country={r?.country}
                >
                  <title>
                    {r
                      ? `${s.name}: ${count(gpus)} GPUs, ${count(r.devicesOnline)} devices online`
                      : `${s.name}: no GPUs`}
                  </title>
                </path>
              );
            })}
          </svg>
        ) : (
          <p className="muted">Loading the map…</p>
        )}
      </div>
      {map.regions.length === 0 ? (
        <p className="muted">No devices yet.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="map-table">
            <thead>
              <tr>
                <th>Country</th>
                <th>Region</th>
                <th className="num">Online</th>
                <th className="num">GPUs</th>
              </tr>
            </thead>
            <tbody>
              {map.regions.map((r) => (
                <tr key={`${r.country ?? "?"}-${r.region}`}>
                  <td data-label="Country">{nameOf(r)}</td>
                  <td data-label="Region">{r.region}</td>
                  <td className="num" data-label="Online">
                    {count(r.devicesOnline)}
                  </td>
                  <td className="num" data-label="GPUs">
                    {count(gpuTotal(r))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">
        Countries from session addresses:{" "}
        <a href={map.attribution.url} target="_blank" rel="noopener noreferrer">
          {map.attribution.text}
        </a>{" "}
        ({map.attribution.licence}). Map: Natural Earth via world-atlas. Never finer than a country.
      </p>
    </>
  );
}
