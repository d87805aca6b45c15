import { memo } from 'react';
import { useAnnotator } from '../state/annotator';
import { projectName, useProject } from '../state/project';
import { ProgressBar } from './ProgressBar';

export const TopBar = memo(function TopBar() {
  const annotator = useAnnotator((s) => s.name);
  const switchAnnotator = useAnnotator((s) => s.switchAnnotator);
  const stats = useProject((s) => s.stats);
  return (
    <header className="topbar">
      <span className="topbar-project" title={stats?.project}>
        {projectName(stats)}
      </span>
      <ProgressBar />
      <span className="topbar-annotator">
        Labeling as <strong data-testid="annotator">{annotator}</strong>{' '}
        <button
          type="button"
          className="link-button"
          data-testid="switch-annotator"
          onMouseDown={(e) => e.preventDefault()}
          onClick={switchAnnotator}
        >
          Switch
        </button>
      </span>
    </header>
  );
});
