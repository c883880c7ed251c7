import type { PublicRewardEpoch } from "@ignis/protocol";
import { useState } from "react";
import { StateBadge } from "../components/badges";
import { CopyButton } from "../components/copy-button";
import { CursorPager } from "../components/cursor-pager";
import { Empty, ErrorState, Loading } from "../components/states";
import { query } from "../lib/api";
import { credits, dateTime, shortId } from "../lib/format";
import { useApi } from "../lib/use-api";

interface EpochPage {
  items: PublicRewardEpoch[];
  nextCursor: string | null;
}

/** Reward epochs with their Merkle roots, newest first; anyone can check a payout against a root. */
export function EpochsPage() {
  const [cursors, setCursors] = useState<string[]>([]);
  const page = useApi<EpochPage>(`/v1/rewards/epochs${query({ cursor: cursors.at(-1), limit: 25 })}`, {
    pollMs: 10_000,
  });
  return (
    <section className="page">
      <header className="page-header">
        <h1>Reward epochs</h1>
        <p className="muted">
          Each closed epoch publishes the Merkle root of its rewards. Verify a device's payout offline with{" "}
          <code>ignis rewards verify --epoch E --device ID</code>.
        </p>
      </header>
      {page.error && !page.data ? (
        page.error.isMissingRoute ? (
          <Empty>Rewards are not running on this server yet, so there are no epochs to show.</Empty>
        ) : (
          <ErrorState error={page.error} onRetry={page.reload} />
        )
      ) : null}
      {!page.data && !page.error ? <Loading what="Loading epochs" /> : null}
      {page.data ? (
        page.data.items.length === 0 ? (
          <Empty>No epoch has closed yet. The first root appears when the first epoch ends.</Empty>
        ) : (
          <div className="table-wrap">
            <table data-testid="epochs-table">
              <thead>
                <tr>
                  <th>Epoch</th>
                  <th>Period</th>
                  <th>Status</th>
                  <th className="num">Devices</th>
                  <th className="num">Total</th>
                  <th>Root</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((e) => (
                  <tr key={e.epoch}>
                    <td className="mono">{e.epoch}</td>
                    <td className="small">
                      {dateTime(e.startsAt)} → {dateTime(e.endsAt)}
                    </td>
                    <td>
                      <StateBadge state={e.status} />
                    </td>
                    <td className="num">{e.devices ?? "—"}</td>
                    <td className="num">{credits(e.total)}</td>
                    <td>
                      {e.root ? (
                        <span className="root">
                          <code className="mono" title={e.root}>
                            {shortId(e.root, 10, 8)}
                          </code>
                          <CopyButton text={e.root} label="Copy root" />
                        </span>
                      ) : (
                        <span className="muted">{e.status === "closed" ? "no rewards" : "pending"}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <CursorPager
        cursors={cursors}
        setCursors={setCursors}
        nextCursor={page.data?.nextCursor}
        previousLabel="← Newer"
        nextLabel="Older →"
      />
    </section>
  );
}
