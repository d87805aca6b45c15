import { useEffect } from 'react';
import type { TaskProgress } from '../../shared/api';
import { useStudio } from './store';
import { studio } from './studio';

const number = new Intl.NumberFormat();

function describeProgress(progress: TaskProgress): string {
  const total = progress.total === null ? '' : ` of ${number.format(progress.total)}`;
  const eta =
    progress.state === 'running' && progress.etaSeconds !== null
      ? `, about ${Math.ceil(progress.etaSeconds)} s left`
      : '';
  const detail = progress.detail ? ` · ${progress.detail}` : '';
  return `${progress.kind} ${progress.state}: ${number.format(progress.done)}${total} ${progress.unit}${eta}${detail}`;
}

export function App() {
  const stats = useStudio((state) => state.stats);
  const error = useStudio((state) => state.error);
  const progress = useStudio((state) => state.progress);

  useEffect(() => {
    const { loadStats, setProgress } = useStudio.getState();
    void loadStats();
    return studio.on('progress', (event) => {
      setProgress(event);
      // A finished task (the demo being drawn, an import) changes the counts.
      if (event.state === 'done') void loadStats();
    });
  }, []);

  const counts = stats?.counts;
  return (
    <main className="app">
      <h1>Pick Studio</h1>
      <p className="project">{stats ? stats.project : 'Opening the project…'}</p>
      {error !== null && <p className="error">{error}</p>}
      {counts && (
        <dl className="counts">
          <dt>Pairs</dt>
          <dd>{number.format(counts.pairs)}</dd>
          <dt>Images</dt>
          <dd>{number.format(counts.images)}</dd>
          <dt>Annotations</dt>
          <dd>{number.format(counts.annotations)}</dd>
          <dt>Annotators</dt>
          <dd>{number.format(counts.annotators)}</dd>
        </dl>
      )}
      <p className="progress" aria-live="polite">
        {progress ? describeProgress(progress) : 'No task running'}
      </p>
    </main>
  );
}
