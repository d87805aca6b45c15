import { memo } from 'react';
import { SUGGESTION_MODES, type SuggestionMode } from '../../../shared/api';
import { useAnnotator } from '../state/annotator';
import { labelingKeys } from '../state/keys';
import { projectName, SUGGESTION_MODE_TEXT, useProject } from '../state/project';
import { ProgressBar } from './ProgressBar';
import { ScoringStatus } from './ScoringStatus';
import { ViewSwitch } from './ViewSwitch';

/** The project's suggestion mode, for a lead to set; S cycles it too. */
function SuggestionModeControl() {
  const mode = useProject((s) => s.settings?.suggestionMode ?? null);
  const error = useProject((s) => s.settingsError);
  const setSuggestionMode = useProject((s) => s.setSuggestionMode);
  if (mode === null) return null;
  return (
    <span className="topbar-suggestions">
      <label htmlFor="suggestion-mode">Model suggestions</label>
      <select
        id="suggestion-mode"
        data-testid="suggestion-mode"
        value={mode}
        aria-keyshortcuts={labelingKeys('suggestions').aria}
        onChange={(e) => void setSuggestionMode(e.target.value as SuggestionMode)}
        // The labeling keys do nothing while the select has focus; Esc hands them back.
        onKeyDown={(e) => {
          if (e.key === 'Escape') e.currentTarget.blur();
        }}
      >
        {SUGGESTION_MODES.map((option) => (
          <option key={option} value={option}>
            {SUGGESTION_MODE_TEXT[option]}
          </option>
        ))}
      </select>
      {error !== null && (
        <span className="error" role="alert" data-testid="settings-error">
          {error}
        </span>
      )}
    </span>
  );
}

export const TopBar = memo(function TopBar() {
  const annotator = useAnnotator((s) => s.name);
  const switchAnnotator = useAnnotator((s) => s.switchAnnotator);
  const stats = useProject((s) => s.stats);
  return (
    <header className="topbar">
      <span className="topbar-project" title={stats?.project}>
        {projectName(stats)}
      </span>
      <ViewSwitch />
      <ProgressBar />
      <SuggestionModeControl />
      <ScoringStatus />
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
