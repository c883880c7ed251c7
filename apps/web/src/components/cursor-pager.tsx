import type { Dispatch, SetStateAction } from "react";

/**
 * Previous/next buttons over a keyset-paginated list: `cursors` is the stack of cursors that led to the current
 * page, so going back pops one and going forward pushes the page's `nextCursor`.
 */
export function CursorPager(props: {
  cursors: string[];
  setCursors: Dispatch<SetStateAction<string[]>>;
  nextCursor: string | null | undefined;
  previousLabel: string;
  nextLabel: string;
}) {
  const { cursors, setCursors, nextCursor } = props;
  return (
    <div className="pager">
      <button
        type="button"
        className="button secondary"
        disabled={cursors.length === 0}
        onClick={() => setCursors((c) => c.slice(0, -1))}
      >
        {props.previousLabel}
      </button>
      <button
        type="button"
        className="button secondary"
        disabled={!nextCursor}
        onClick={() => nextCursor && setCursors((c) => [...c, nextCursor])}
      >
        {props.nextLabel}
      </button>
    </div>
  );
}
