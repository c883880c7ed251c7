import type { AuditRecordView, AuditVerificationView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { CursorPager } from "../../components/cursor-pager";
import { DataTable } from "../../components/data-table";
import { ErrorState, ResourceView } from "../../components/states";
import { api, query } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

const FIELDS = ["actor", "action", "object", "outcome", "requestId"] as const;
type Filters = Record<(typeof FIELDS)[number], string>;
const NONE: Filters = { actor: "", action: "", object: "", outcome: "", requestId: "" };

/** Audit search by actor, action, object, outcome or request id, plus a check of the hash chain. */
export function AdminAudit() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [cursors, setCursors] = useState<string[]>([]);
  const records = useApi<{ items: AuditRecordView[]; nextCursor: string | null }>(
    `/v1/admin/audit${query({ ...filters, cursor: cursors.at(-1), limit: 50 })}`,
  );
  const verify = useAction(() => api<AuditVerificationView>("/v1/admin/audit/verify"));
  const [verdict, setVerdict] = useState<AuditVerificationView>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursors([]);
    setFilters(draft);
  };
  return (
    <div className="panel">
      <h2>Audit log</h2>
      <form className="filters" onSubmit={submit}>
        {FIELDS.map((f) => (
          <input
            key={f}
            aria-label={f}
            placeholder={f}
            value={draft[f]}
            onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
          />
        ))}
        <button type="submit" className="button primary">
          Search
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={async () => setVerdict(await verify.perform())}
          disabled={verify.pending}
        >
          Verify chain
        </button>
      </form>
      {verify.error ? <ErrorState error={verify.error} title="Could not verify" /> : null}
      {verdict ? (
        <p className={verdict.ok ? "notice ok" : "notice bad"}>
          {verdict.ok
            ? `The hash chain holds over ${verdict.rows} records.`
            : `The chain breaks at record ${verdict.brokenSeq}: ${verdict.reason}`}
        </p>
      ) : null}
      <ResourceView
        {...records}
        what="Searching"
        isEmpty={(d) => d.items.length === 0}
        empty="No matching records."
      >
        {(d) => (
          <>
            <DataTable
              rows={d.items}
              rowKey={(r) => r.seq}
              columns={[
                { title: "#", cellClass: "mono small", render: (r) => r.seq },
                { title: "When", cellClass: "small", render: (r) => dateTime(r.at) },
                {
                  title: "Actor",
                  cellClass: "small",
                  render: (r) => (
                    <>
                      {r.actorType} <span className="mono">{r.actorId ?? ""}</span>
                      {r.ip ? <div className="mono muted">{r.ip}</div> : null}
                    </>
                  ),
                },
                { title: "Action", cellClass: "mono small", render: (r) => r.action },
                {
                  title: "Object",
                  cellClass: "mono small",
                  render: (r) => [r.objectType, r.objectId].filter(Boolean).join(" "),
                },
                { title: "Outcome", cellClass: "small", render: (r) => r.outcome },
              ]}
            />
            <CursorPager
              cursors={cursors}
              setCursors={setCursors}
              nextCursor={d.nextCursor}
              previousLabel="← Newer"
              nextLabel="Older →"
            />
          </>
        )}
      </ResourceView>
    </div>
  );
}
