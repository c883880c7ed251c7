import type { ReactNode } from "react";

/** One column of a DataTable: its header, how a row shows in it, and its classes. */
export interface Column<T> {
  /** Header text; empty for a column of row actions. */
  title: string;
  /** Right-aligned figures: the class of the header and of every cell. */
  numeric?: boolean;
  /** Class of the cells only (`small`, `mono small`, `actions`). */
  cellClass?: string;
  render(row: T): ReactNode;
}

/** A scrollable table of rows, one cell per column: the shape every admin list shares. */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
}: {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey(row: T): string | number;
}) {
  const classOf = (c: Column<T>, cell: boolean) =>
    [c.numeric ? "num" : "", cell ? (c.cellClass ?? "") : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are fixed per table
              <th key={i} className={classOf(c, false)}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are fixed per table
                <td key={i} className={classOf(c, true)}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
