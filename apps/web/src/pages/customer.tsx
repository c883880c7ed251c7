import type { ClusterView, ExplorerStats } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { StateBadge } from "../components/badges";
import { FormFooter } from "../components/form-footer";
import { Empty, ErrorState, Loading } from "../components/states";
import { api } from "../lib/api";
import { credits, dateTime } from "../lib/format";
import { Link, navigate } from "../lib/router";
import { useAction, useApi } from "../lib/use-api";

interface ClusterList {
  items: ClusterView[];
  nextCursor: string | null;
}

interface Offer {
  gpuModel: string;
  available: number;
  lowestPricePerHour: string | null;
  defaultPricePerHour: string | null;
}

interface Balance {
  balance: string;
  held: string;
}

/** A customer's dashboard: rent a cluster and follow the clusters already rented. */
export function CustomerPage() {
  const clusters = useApi<ClusterList>("/v1/clusters?limit=50", { pollMs: 3000 });
  return (
    <section className="page">
      <header className="page-header">
        <h1>Clusters</h1>
        <p className="muted">Rent verified GPUs by the hour and run a job on each of them.</p>
      </header>
      <CreditCards />
      <CreateClusterForm onCreated={(c) => navigate(`/customer/clusters/${c.id}`)} />
      <div className="panel">
        <h2>Your clusters</h2>
        {clusters.error && !clusters.data ? (
          clusters.error.isMissingRoute ? (
            <Empty>The marketplace is not running on this server yet.</Empty>
          ) : (
            <ErrorState error={clusters.error} onRetry={clusters.reload} />
          )
        ) : null}
        {!clusters.data && !clusters.error ? <Loading what="Loading clusters" /> : null}
        {clusters.data ? (
          clusters.data.items.length === 0 ? (
            <Empty>No clusters yet. Rent one with the form above.</Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="clusters">
                <thead>
                  <tr>
                    <th>Cluster</th>
                    <th>GPUs</th>
                    <th>Status</th>
                    <th>Created</th>
                    <th className="num">Charged</th>
                  </tr>
                </thead>
                <tbody>
                  {clusters.data.items.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <Link to={`/customer/clusters/${c.id}`} className="mono">
                          {c.id}
                        </Link>
                      </td>
                      <td>
                        {c.count}× {c.gpuModel} · {c.hours} h
                      </td>
                      <td>
                        <StateBadge state={c.status} />
                      </td>
                      <td className="small">{dateTime(c.createdAt)}</td>
                      <td className="num">{credits(c.escrow.charged)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : null}
      </div>
    </section>
  );
}

function CreditCards() {
  const credit = useApi<Balance>("/v1/credits", { pollMs: 5000 });
  if (!credit.data)
    return credit.error && !credit.error.isMissingRoute ? <ErrorState error={credit.error} /> : null;
  return (
    <div className="cards">
      <div className="card">
        <div className="card-label">Credit</div>
        <div className="card-value" data-testid="credit-balance">
          {credits(credit.data.balance)}
        </div>
      </div>
      <div className="card">
        <div className="card-label">Held for running clusters</div>
        <div className="card-value">{credits(credit.data.held)}</div>
      </div>
    </div>
  );
}

/** The least connectivity tier a rental may ask for (docs/clusters.md, "Connectivity tiers"). */
const TIER_CHOICES: [number, string][] = [
  [1, "any tier"],
  [2, "tier 2 (standard) or better"],
  [3, "tier 3 (high) or better"],
  [4, "tier 4 (ultra)"],
];

function CreateClusterForm({ onCreated }: { onCreated: (c: ClusterView) => void }) {
  const offers = useApi<{ items: Offer[] }>("/v1/market/offers", { pollMs: 10_000 });
  const stats = useApi<ExplorerStats>(offers.error ? "/v1/explorer/stats" : null);
  const models: { name: string; hint: string }[] = offers.data
    ? offers.data.items.map((o) => ({
        name: o.gpuModel,
        hint: `${o.available} available${o.lowestPricePerHour ? ` from ${credits(o.lowestPricePerHour)}/h` : ""}`,
      }))
    : (stats.data?.models.map((m) => ({ name: m.model, hint: `${m.online} online` })) ?? []);
  // Arguments are a list, one field each, sent as the job's args array: an argument may contain spaces.
  const [form, setForm] = useState({
    gpuModel: "",
    count: 1,
    hours: 1,
    command: "",
    args: [] as string[],
    minTier: 1,
    provenMemory: false,
  });
  const create = useAction((body: unknown) => api<ClusterView>("/v1/clusters", { method: "POST", body }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const args = form.args.filter((a) => a !== "");
    const created = await create.perform({
      gpuModel: form.gpuModel || models[0]?.name || "",
      count: form.count,
      hours: form.hours,
      job: { command: form.command, ...(args.length ? { args } : {}) },
      ...(form.minTier > 1 ? { minTier: form.minTier } : {}),
      ...(form.provenMemory ? { requireProvenMemory: true } : {}),
    });
    if (created) onCreated(created);
  };
  return (
    <form className="panel form-grid" onSubmit={submit}>
      <h2>Rent a cluster</h2>
      <label>
        GPU model
        <select
          value={form.gpuModel}
          onChange={(e) => setForm({ ...form, gpuModel: e.target.value })}
          required
        >
          <option value="">Choose…</option>
          {models.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name} ({m.hint})
            </option>
          ))}
        </select>
      </label>
      <label>
        Devices
        <input
          type="number"
          min={1}
          max={64}
          value={form.count}
          onChange={(e) => setForm({ ...form, count: Number(e.target.value) })}
        />
      </label>
      <label>
        Hours
        <input
          type="number"
          min={1}
          max={720}
          value={form.hours}
          onChange={(e) => setForm({ ...form, hours: Number(e.target.value) })}
        />
      </label>
      <label>
        Connectivity
        <select value={form.minTier} onChange={(e) => setForm({ ...form, minTier: Number(e.target.value) })}>
          {TIER_CHOICES.map(([t, text]) => (
            <option key={t} value={t}>
              {text}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={form.provenMemory}
          onChange={(e) => setForm({ ...form, provenMemory: e.target.checked })}
        />
        only devices with proven memory
      </label>
      <label className="wide">
        Command
        <input
          value={form.command}
          onChange={(e) => setForm({ ...form, command: e.target.value })}
          placeholder="python"
          required
        />
      </label>
      <fieldset className="wide job-args">
        <legend>Arguments (one per field, passed as they are)</legend>
        {form.args.map((arg, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the position is the argument's identity
          <div className="job-arg" key={i}>
            <input
              className="job-arg-value"
              aria-label={`Argument ${i + 1}`}
              value={arg}
              onChange={(e) =>
                setForm({ ...form, args: form.args.map((a, j) => (j === i ? e.target.value : a)) })
              }
              placeholder={i === 0 ? "train.py" : ""}
            />
            <button
              type="button"
              aria-label={`Remove argument ${i + 1}`}
              onClick={() => setForm({ ...form, args: form.args.filter((_, j) => j !== i) })}
            >
              ×
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setForm({ ...form, args: [...form.args, ""] })}>
          Add argument
        </button>
      </fieldset>
      <FormFooter
        label={create.pending ? "Renting…" : "Rent"}
        pending={create.pending}
        error={create.error}
        errorTitle="Could not rent the cluster"
      />
    </form>
  );
}
