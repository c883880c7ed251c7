import type { ExplorerDevicePage, ExplorerStats, PublicDevice } from "@ignis/protocol";
import { useEffect, useState } from "react";
import { StatusBadge, VerificationBadge } from "../components/badges";
import { CursorPager } from "../components/cursor-pager";
import { Empty, ErrorState, Loading } from "../components/states";
import { query } from "../lib/api";
import { locationText, percent } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";

const STATUSES = ["online", "offline", "hired", "pending", "quarantined"];

/** The explorer's device table: search by id, filter by status, model and vendor, page with a cursor. */
export function DeviceTable() {
  const { query: params } = useLocation();
  const filters = {
    q: params.get("q") ?? "",
    status: params.get("status") ?? "",
    model: params.get("model") ?? "",
    vendor: params.get("vendor") ?? "",
  };
  const [typed, setTyped] = useState(filters.q);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const filterKey = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter starts again from the first page.
  useEffect(() => setCursors([]), [filterKey]);

  // Debounced: the URL (and so the query) follows the search box 300 ms after the last key.
  useEffect(() => {
    if (typed === filters.q) return;
    const timer = window.setTimeout(() => setFilter("q", typed), 300);
    return () => window.clearTimeout(timer);
  });

  const setFilter = (key: keyof typeof filters, value: string) =>
    navigate(`/devices${query({ ...filters, [key]: value })}`, { replace: true });

  const page = useApi<ExplorerDevicePage>(`/v1/explorer/devices${query({ ...filters, cursor, limit: 25 })}`, {
    pollMs: 3000,
  });
  const stats = useApi<ExplorerStats>("/v1/explorer/stats");
  const models = stats.data?.models ?? [];
  const vendors = [...new Set(models.map((m) => m.vendor))].sort();

  return (
    <section className="page">
      <header className="page-header">
        <h1>Devices</h1>
        <p className="muted">Search by device id or a prefix of it. The list refreshes every few seconds.</p>
      </header>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter("q", typed);
        }}
      >
        <label className="grow">
          <span className="sr-only">Device id</span>
          <input
            type="search"
            name="q"
            placeholder="dev_… or a prefix"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <Select
          label="Status"
          value={filters.status}
          options={STATUSES}
          onChange={(v) => setFilter("status", v)}
        />
        <Select
          label="Model"
          value={filters.model}
          options={[...new Set(models.map((m) => m.model))]}
          onChange={(v) => setFilter("model", v)}
        />
        <Select
          label="Vendor"
          value={filters.vendor}
          options={vendors}
          onChange={(v) => setFilter("vendor", v)}
        />
      </form>
      {page.error && !page.data ? <ErrorState error={page.error} onRetry={page.reload} /> : null}
      {!page.data && !page.error ? <Loading what="Loading devices" /> : null}
      {page.data ? (
        page.data.items.length === 0 ? (
          <Empty>
            {filters.q || filters.status || filters.model || filters.vendor
              ? "No device matches these filters."
              : "No devices on the network yet."}
          </Empty>
        ) : (
          <DeviceRows items={page.data.items} />
        )
      ) : null}
      <CursorPager
        cursors={cursors}
        setCursors={setCursors}
        nextCursor={page.data?.nextCursor}
        previousLabel="← Previous"
        nextLabel="Next →"
      />
    </section>
  );
}

function DeviceRows({ items }: { items: PublicDevice[] }) {
  return (
    <div className="table-wrap">
      <table className="devices cards-on-phone" data-testid="device-table">
        <thead>
          <tr>
            <th>Device</th>
            <th>GPU</th>
            <th>Location</th>
            <th>Status</th>
            <th>Proof</th>
            <th className="num">Uptime 24 h</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id} data-device-id={d.id}>
              <td>
                <Link to={`/devices/${d.id}`} className="mono">
                  {d.id}
                </Link>
                {d.label ? <div className="label-text">{d.label}</div> : null}
              </td>
              <td data-label="GPU">
                <span>
                  {d.gpu.count > 1 ? `${d.gpu.count}× ` : ""}
                  {d.gpu.model} <span className="muted small">{d.vendor}</span>
                </span>
              </td>
              <td data-label="Location">{locationText(d.location)}</td>
              <td data-label="Status">
                <StatusBadge status={d.status} />
              </td>
              <td data-label="Proof">
                <VerificationBadge verification={d.verification} />
              </td>
              <td className="num" data-label="Uptime 24 h">
                {percent(d.uptime24h)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Select(props: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  const options =
    props.value && !props.options.includes(props.value) ? [props.value, ...props.options] : props.options;
  return (
    <label>
      <span className="sr-only">{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} aria-label={props.label}>
        <option value="">{`Any ${props.label.toLowerCase()}`}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
