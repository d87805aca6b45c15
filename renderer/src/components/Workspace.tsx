import { useView } from '../state/view';
import { AuditView } from './AuditView';
import { LabelingView } from './LabelingView';
import { useNavigationKeys } from './useNavigationKeys';

/**
 * The labeling view or the lead's audit view. Only the one on screen is mounted, so only its keys
 * listen: a verdict key in review adjudicates and never labels the pair queued behind it.
 */
export function Workspace({ annotator }: { annotator: string }) {
  const view = useView((s) => s.view);
  useNavigationKeys();
  return view === 'audit' ? (
    <AuditView annotator={annotator} />
  ) : (
    <LabelingView annotator={annotator} />
  );
}
