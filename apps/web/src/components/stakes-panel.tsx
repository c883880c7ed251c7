import type { DeviceView, SlashList, SlashView, StakeList, StakeView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { api, query } from "../lib/api";
import { credits, dateTime, microUnitsOf, shortId } from "../lib/format";
import { useAction, useApi } from "../lib/use-api";
import { FormFooter } from "./form-footer";
import { Empty, ErrorState, Loading } from "./states";

/**
 * The supplier's stakes: the rule and the earnings balance they are paid from, each stake with an unbond button,
 * a form to stake for one of their devices (showing why the device is or is not hireable and earning), and the
 * slashes of their staked devices with the evidence and an appeal form.
 */
export function StakesPanel({ devices }: { devices: readonly DeviceView[] }) {
  const stakes = useApi<StakeList>("/v1/stakes", { pollMs: 15_000 });
  return (
    <div className="panel" data-testid="stakes-panel">
      <h2>Stakes</h2>
      {stakes.error && !stakes.data ? (
        stakes.error.isMissingRoute ? (
          <Empty>Staking is not available on this server.</Empty>
        ) : (
          <ErrorState error={stakes.error} onRetry={stakes.reload} />
        )
      ) : null}
      {!stakes.data && !stakes.error ? <Loading what="Loading stakes" /> : null}
      {stakes.data ? <Stakes list={stakes.data} devices={devices} onChanged={stakes.reload} /> : null}
    </div>
  );
}

function Stakes({
  list,
  devices,
  onChanged,
}: {
  list: StakeList;
  devices: readonly DeviceView[];
  onChanged: () => void;
}) {
  const off = list.perGpu === "0";
  // Slashes can only have hit devices that were staked, so those are the ones to ask about.
  const staked = [...new Set(list.items.map((s) => s.deviceId))];
  return (
    <>
      <p className="muted" data-testid="stake-rule">
        {off
          ? "Staking is off on this server: devices are hired and earn without a stake."
          : `Each device keeps ${credits(list.perGpu)} per GPU bonded to be hired and earn. A fraud-class proof failure slashes ${list.slashBps / 100}% of its stake; an outage never does. Unbonding takes ${duration(list.unbondSeconds)}${list.pendingSeconds ? `, and a new stake counts after ${duration(list.pendingSeconds)}` : ""}.`}
      </p>
      <div className="cards">
        <div className="card">
          <div className="card-label">Earnings balance (stakes are paid from it)</div>
          <div className="card-value" data-testid="stake-balance">
            {credits(list.earningsBalance)}
          </div>
        </div>
      </div>
      {list.items.length === 0 ? (
        <Empty>No stakes yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="cards-on-phone" data-testid="my-stakes">
            <thead>
              <tr>
                <th>Stake</th>
                <th>Device</th>
                <th className="num">Amount</th>
                <th className="num">Bonded</th>
                <th>Status</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((s) => (
                <StakeRow key={s.id} stake={s} onChanged={onChanged} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {off ? null : <StakeForm devices={devices} onStaked={onChanged} />}
      {staked.length > 0 ? (
        <>
          <h3>Slashes</h3>
          <p className="muted small">
            Each slash names the failed challenge and a hash of its transcript, so anyone can recheck it. An
            appeal asks for a re-proof of the device; a pass refunds the slash.
          </p>
          {staked.map((deviceId) => (
            <DeviceSlashes key={deviceId} deviceId={deviceId} onChanged={onChanged} />
          ))}
        </>
      ) : null}
    </>
  );
}

function StakeRow({ stake, onChanged }: { stake: StakeView; onChanged: () => void }) {
  const unbond = useAction(() =>
    api<StakeView>(`/v1/stakes/${encodeURIComponent(stake.id)}/unbond`, { method: "POST", body: {} }),
  );
  return (
    <tr data-stake-id={stake.id}>
      <td className="mono" title={stake.id}>
        {shortId(stake.id)}
      </td>
      <td className="mono" data-label="Device">
        {stake.deviceId}
      </td>
      <td className="num" data-label="Amount">
        {credits(stake.amount)}
      </td>
      <td className="num" data-label="Bonded">
        {credits(stake.bonded)}
      </td>
      <td data-label="Status" data-testid="stake-status">
        {stake.status}
        {stake.status === "unbonding" && stake.releaseAt ? (
          <span className="muted small"> (returns {dateTime(stake.releaseAt)})</span>
        ) : null}
      </td>
      <td className="actions">
        {stake.status === "bonded" ? (
          <button
            type="button"
            className="button small secondary"
            disabled={unbond.pending}
            onClick={async () => {
              if (!window.confirm("Unbond this stake? It stops counting now and returns after the delay."))
                return;
              if (await unbond.perform()) onChanged();
            }}
          >
            Unbond
          </button>
        ) : null}
        {unbond.error ? <ErrorState error={unbond.error} title="Could not unbond" /> : null}
      </td>
    </tr>
  );
}

function StakeForm({ devices, onStaked }: { devices: readonly DeviceView[]; onStaked: () => void }) {
  const shown = devices.filter((d) => d.status !== "revoked");
  const [deviceId, setDeviceId] = useState("");
  const [amount, setAmount] = useState("");
  const [invalid, setInvalid] = useState(false);
  const record = useApi<DeviceView>(deviceId ? `/v1/devices/${encodeURIComponent(deviceId)}` : null, {
    pollMs: 15_000,
  });
  const stake = useAction((body: unknown) => api<StakeView>("/v1/stakes", { method: "POST", body }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const micro = microUnitsOf(amount);
    setInvalid(micro === undefined || micro === "0");
    if (micro === undefined || micro === "0") return;
    if (await stake.perform({ deviceId, amount: micro })) {
      setAmount("");
      onStaked();
      record.reload();
    }
  };
  const eligibility = record.data?.eligibility;
  return (
    <form className="form-grid" onSubmit={submit} data-testid="stake-form">
      <label>
        Device
        <select value={deviceId} onChange={(e) => setDeviceId(e.target.value)} required>
          <option value="">Choose…</option>
          {shown.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label ? `${d.label} (${d.id})` : d.id}
            </option>
          ))}
        </select>
      </label>
      <label>
        Amount (credits)
        <input
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          placeholder="1.5"
          aria-invalid={invalid}
          required
        />
      </label>
      {invalid ? (
        <p className="wide notice bad" role="alert">
          Enter a positive amount of credits, with up to six decimals.
        </p>
      ) : null}
      {eligibility ? (
        <p className="wide muted" data-testid="stake-eligibility">
          This device is {eligibility.hireable ? "hireable" : "not hireable"} and{" "}
          {eligibility.earning ? "earning" : "not earning"}
          {eligibility.reasons.length > 0 ? ` (${eligibility.reasons.map(reasonText).join("; ")})` : ""}.
        </p>
      ) : null}
      <FormFooter label="Stake" pending={stake.pending} error={stake.error} errorTitle="Could not stake" />
    </form>
  );
}

function DeviceSlashes({ deviceId, onChanged }: { deviceId: string; onChanged: () => void }) {
  const slashes = useApi<SlashList>(`/v1/slashes${query({ deviceId })}`, { pollMs: 30_000 });
  if (slashes.error) return <ErrorState error={slashes.error} onRetry={slashes.reload} />;
  const items = slashes.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <ol className="history" data-testid="my-slashes">
      {items.map((s) => (
        <SlashItem
          key={s.id}
          slash={s}
          onChanged={() => {
            slashes.reload();
            onChanged();
          }}
        />
      ))}
    </ol>
  );
}

function SlashItem({ slash, onChanged }: { slash: SlashView; onChanged: () => void }) {
  const [reason, setReason] = useState("");
  const appeal = useAction((text: string) =>
    api<SlashView>(`/v1/slashes/${encodeURIComponent(slash.id)}/appeal`, {
      method: "POST",
      body: { reason: text },
    }),
  );
  return (
    <li data-slash-id={slash.id}>
      <span className="badge verification-failed">{credits(slash.amount)}</span> <code>{slash.reason}</code>{" "}
      <span className="mono">{slash.deviceId}</span> <time dateTime={slash.at}>{dateTime(slash.at)}</time>
      <p className="small">
        Evidence: challenge <code>{slash.evidence.challengeId}</code>, transcript SHA-256{" "}
        <code className="break">{slash.evidence.transcriptHash}</code>
      </p>
      {slash.appeal ? (
        <p className="small" data-testid="slash-appeal">
          Appeal {slash.appeal.status}
          {slash.appeal.resolvedAt ? ` (${dateTime(slash.appeal.resolvedAt)})` : ""}
        </p>
      ) : (
        <form
          className="inline-form"
          onSubmit={async (event) => {
            event.preventDefault();
            if (reason.trim() && (await appeal.perform(reason.trim()))) onChanged();
          }}
        >
          <input
            aria-label="Why the slash is wrong"
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
            placeholder="Why it is wrong"
            required
          />
          <button type="submit" className="button small primary" disabled={appeal.pending}>
            Appeal
          </button>
        </form>
      )}
      {appeal.error ? <ErrorState error={appeal.error} title="Could not appeal" /> : null}
    </li>
  );
}

/** Plain words for an eligibility code. */
function reasonText(code: string): string {
  switch (code) {
    case "stake_missing":
      return "its bonded stake is below the rule";
    case "pending_period":
      return "it is in its pending period after verification or a new stake";
    case "not_verified":
      return "it is not verified";
    case "proof_stale":
      return "its last passed proof is too old to earn; the next challenge it passes fixes this";
    default:
      return code;
  }
}

/** Seconds as the largest whole unit that fits: `7 days`, `2 hours`, `90 s`. */
function duration(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0)
    return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  return `${seconds} s`;
}
