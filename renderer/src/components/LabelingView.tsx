import { useEffect } from 'react';
import { useLabeling } from '../state/labeling';
import { SUGGESTION_MODE_TEXT, useProject } from '../state/project';
import { EmptyState } from './EmptyState';
import { ErrorDetail } from './ErrorDetail';
import { FlagBadge } from './FlagDialog';
import { HistoryStrip } from './HistoryStrip';
import { NotesLayer } from './NotesLayer';
import { PairView } from './PairView';
import { ShortcutSheet } from './ShortcutSheet';
import { TopBar } from './TopBar';
import { useLabelingKeys } from './useLabelingKeys';
import { VerdictBar } from './VerdictBar';
import './labeling.css';

/**
 * The lead may change the suggestion mode while this view is open: the bars come or go without a
 * keypress here, so a screen reader is told why.
 */
function useSuggestionModeAnnouncer(): void {
  useEffect(
    () =>
      useProject.subscribe(({ settings }, previous) => {
        if (!settings || !previous.settings) return;
        if (settings.suggestionMode === previous.settings.suggestionMode) return;
        useLabeling
          .getState()
          .announce(
            `The lead set the model's suggestions to ${SUGGESTION_MODE_TEXT[settings.suggestionMode]}.`,
          );
      }),
    [],
  );
}

/**
 * The screen annotators spend their day on. `data-state`, `data-pair-id` and `data-next-ready`
 * are for tests.
 */
export function LabelingView({ annotator }: { annotator: string }) {
  const status = useLabeling((s) => s.status);
  const shown = useLabeling((s) => s.shown);
  const error = useLabeling((s) => s.error);
  const errorDetail = useLabeling((s) => s.errorDetail);
  const announcement = useLabeling((s) => s.announcement);
  const sheetOpen = useLabeling((s) => s.sheetOpen);
  const nextReady = useLabeling((s) => s.nextReady);

  useEffect(() => {
    useLabeling.getState().start(annotator);
    return () => useLabeling.getState().stop();
  }, [annotator]);
  useLabelingKeys();
  useSuggestionModeAnnouncer();

  return (
    <div
      className="labeling"
      data-testid="labeling-view"
      data-state={status}
      data-pair-id={shown?.prepared.pair.pairId ?? ''}
      data-next-ready={nextReady}
    >
      <TopBar />
      {shown ? <PairView shown={shown} /> : <EmptyState />}
      {shown && error !== null && (
        <div className="error-banner" role="alert" data-testid="error">
          <p data-testid="error-message">{error}</p>
          <ErrorDetail detail={errorDetail} />
        </div>
      )}
      <FlagBadge />
      <VerdictBar />
      <HistoryStrip />
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
        {announcement}
      </div>
      {sheetOpen && <ShortcutSheet />}
      <NotesLayer annotator={annotator} />
    </div>
  );
}
