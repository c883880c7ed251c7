import { count } from "../lib/format";

/** Counts per name as horizontal bars, largest first: readable as text, no canvas needed. */
export function BarList({ entries, empty }: { entries: Record<string, number>; empty: string }) {
  const sorted = Object.entries(entries).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = Math.max(1, ...sorted.map(([, n]) => n));
  if (sorted.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="bar-list">
      {sorted.map(([name, n]) => (
        <li key={name}>
          <span className="bar-name">{name}</span>
          <span className="bar-track" aria-hidden="true">
            <span className="bar-fill" style={{ width: `${(n / max) * 100}%` }} />
          </span>
          <span className="bar-value">{count(n)}</span>
        </li>
      ))}
    </ul>
  );
}
