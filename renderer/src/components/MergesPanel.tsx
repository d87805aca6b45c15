import { useEffect } from 'react';
import { formatCount } from '../state/format';
import { useMerges } from '../state/merges';
import { mergeRow, type MergeRow } from '../state/team';

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function MergeTable({ rows }: { rows: MergeRow[] }) {
  return (
    <table className="figures merges-table" data-testid="merges-table">
      <caption>
        Annotations added: the decisions, skips and undos the file brought that this project did not
        have. A file merged again adds only what is new.
      </caption>
      <thead>
        <tr>
          <th scope="col">Merged</th>
          <th scope="col">Annotators</th>
          <th scope="col" className="count">
            Annotations added
          </th>
          <th scope="col">File</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row, index) => (
          <tr key={`${row.mergedAt}-${index}`} data-testid="merge-row" data-file={row.file}>
            <th scope="row">
              <time dateTime={new Date(row.mergedAt).toISOString()}>
                {time.format(row.mergedAt)}
              </time>
            </th>
            <td data-testid="merge-who">{row.who}</td>
            <td className="count" data-testid="merge-added">
              {formatCount(row.added)}
            </td>
            <td className="merge-file" title={row.path}>
              {row.file} <span className="hint">({row.kind})</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NothingMerged() {
  return (
    <div className="merges-empty" data-testid="merges-empty">
      <h3>Nothing merged yet</h3>
      <p className="hint">
        Returned annotator packages appear here once merged: File → Merge Returned Packages… in the
        app, or <code>pickstudio merge PROJECT FILE…</code>. Make a package for an annotator with
        File → Make Annotator Package… or <code>pickstudio pack</code>.
      </p>
    </div>
  );
}

/**
 * The files merged into this project, the latest first. Fetched when the tab opens and again
 * whenever the window comes back to the front: a merge is made from the app's menu or from a
 * terminal, both outside this page.
 */
export function MergesPanel() {
  const status = useMerges((s) => s.status);
  const merges = useMerges((s) => s.merges);
  const error = useMerges((s) => s.error);
  const load = useMerges((s) => s.load);

  useEffect(() => {
    void load();
    const reload = (): void => {
      if (document.visibilityState === 'visible') void load();
    };
    window.addEventListener('focus', reload);
    document.addEventListener('visibilitychange', reload);
    return () => {
      window.removeEventListener('focus', reload);
      document.removeEventListener('visibilitychange', reload);
    };
  }, [load]);

  return (
    <div
      className="merges"
      data-testid="merges-panel"
      data-state={status}
      aria-busy={status === 'loading'}
    >
      <section
        className="dashboard-panel"
        aria-labelledby="merges-title"
        // A table wider than the panel scrolls: the keyboard must reach it too.
        tabIndex={0}
      >
        <h2 id="merges-title">Merged sources</h2>
        {error !== null && (
          <div className="error-banner" role="alert" data-testid="merges-error">
            <p>The merged files could not be listed: {error}</p>
            <button type="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        )}
        {merges === null ? (
          status === 'loading' && <p className="hint">Listing the merged files…</p>
        ) : merges.length === 0 ? (
          <NothingMerged />
        ) : (
          <MergeTable rows={merges.map(mergeRow)} />
        )}
      </section>
    </div>
  );
}
