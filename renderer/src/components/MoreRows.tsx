import { useState } from 'react';
import { formatCount } from '../state/format';

/**
 * Rows a long table draws at first, and adds on each "Show more". Pick-a-Pic's thousands of
 * users make over 100,000 Cohen rows: drawn at once they held the page for half a minute.
 */
export const ROWS_PER_PAGE = 100;

/** How many rows a table shows, a page more at a time; `reset` goes back to one page. */
export function useShownRows() {
  const [shown, setShown] = useState(ROWS_PER_PAGE);
  return {
    shown,
    more: () => setShown((n) => n + ROWS_PER_PAGE),
    reset: () => setShown(ROWS_PER_PAGE),
  };
}

/** Says how many rows of how many are shown, with a button for the next page; none when all are. */
export function MoreRows({
  shown,
  total,
  onMore,
  testId,
}: {
  shown: number;
  total: number;
  onMore: () => void;
  testId: string;
}) {
  if (shown >= total) return null;
  return (
    <p className="more-rows" data-testid={testId}>
      Showing {formatCount(shown)} of {formatCount(total)}.{' '}
      <button type="button" onClick={onMore}>
        Show {formatCount(Math.min(ROWS_PER_PAGE, total - shown))} more
      </button>
    </p>
  );
}
