import { useEffect } from 'react';
import { useNotes } from '../state/notes';
import { FlagDialog } from './FlagDialog';
import { GuidelinesPanel } from './GuidelinesPanel';
import './notes.css';

/**
 * The labeling view's guidelines panel and flag dialog. The guidelines open by themselves when
 * this annotator has not read this version of them here (before the first pair, or when the
 * lead changes them while labeling goes on).
 */
export function NotesLayer({ annotator }: { annotator: string }) {
  const panel = useNotes((s) => s.panel);
  const guidelines = useNotes((s) => s.guidelines);
  const projectId = useNotes((s) => s.projectId);
  useEffect(() => {
    void useNotes.getState().load();
    return () => useNotes.getState().setPanel(null);
  }, []);
  useEffect(() => {
    const notes = useNotes.getState();
    if (guidelines && projectId !== null && panel === null && !notes.seen(annotator)) {
      notes.setPanel('guidelines');
    }
  }, [guidelines, projectId, panel, annotator]);
  if (panel === 'guidelines') return <GuidelinesPanel annotator={annotator} />;
  if (panel === 'flag') return <FlagDialog annotator={annotator} />;
  return null;
}
