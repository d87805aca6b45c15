import { useProject } from '../state/project';
import { canGo } from '../state/team';
import { useView } from '../state/view';
import { AuditView } from './AuditView';
import { LabelingView } from './LabelingView';
import { useNavigationKeys } from './useNavigationKeys';

/**
 * The labeling view or the lead's audit view. Only the one on screen is mounted, so only its keys
 * listen: a verdict key in review adjudicates and never labels the pair queued behind it. An
 * annotator's package has the labeling view alone: whatever the `g` keys ask for, the audit view
 * is never mounted there (and the dispatcher refuses its calls in a package anyway).
 */
export function Workspace({ annotator }: { annotator: string }) {
  const view = useView((s) => s.view);
  const role = useProject((s) => s.team.role);
  useNavigationKeys();
  return view === 'audit' && canGo(role, view) ? (
    <AuditView annotator={annotator} />
  ) : (
    <LabelingView annotator={annotator} />
  );
}
