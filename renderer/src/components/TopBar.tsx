import { memo } from 'react';
import { useAnnotator } from '../state/annotator';
import { projectName, useProject } from '../state/project';
import { ProgressBar } from './ProgressBar';
import { ScoringStatus } from './ScoringStatus';
import { ViewSwitch } from './ViewSwitch';

/** Who labels in a lead's project, with a way to hand the keyboard to someone else. */
function LabelingAs() {
  const annotator = useAnnotator((s) => s.name);
  const switchAnnotator = useAnnotator((s) => s.switchAnnotator);
  return (
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
  );
}

/**
 * In an annotator's package: whom the package is for. The name is the lead's choice, made with the
 * package, so there is nothing to switch: labels under another name would reach the lead as
 * someone else's.
 */
function PackageFor({ annotator }: { annotator: string }) {
  return (
    <span
      className="topbar-annotator"
      data-testid="package-badge"
      title="An annotator's package: it labels only. When every pair is done, return the file to your lead."
    >
      Package for <strong data-testid="annotator">{annotator}</strong>
    </span>
  );
}

export const TopBar = memo(function TopBar() {
  const stats = useProject((s) => s.stats);
  const team = useProject((s) => s.team);
  const packageFor = team.role === 'annotator' ? team.annotator : null;
  return (
    <header className="topbar">
      <span className="topbar-project" title={stats?.project}>
        {projectName(stats)}
      </span>
      {team.role === 'lead' && <ViewSwitch />}
      <ProgressBar />
      <ScoringStatus />
      {packageFor !== null ? <PackageFor annotator={packageFor} /> : <LabelingAs />}
    </header>
  );
});
