import { bindingFor, describeChord, GO_KEYS } from '../../../shared/keys';
import { useView, type ViewName } from '../state/view';

const VIEWS: { view: ViewName; text: string; chord: string }[] = [
  { view: 'labeling', text: 'Labeling', chord: describeChord(bindingFor(GO_KEYS, 'labeling')) },
  { view: 'audit', text: 'Audit', chord: describeChord(bindingFor(GO_KEYS, 'audit')) },
];

/** The top bar's way between labeling and the lead's audit; `g l` and `g a` do the same. */
export function ViewSwitch() {
  const current = useView((s) => s.view);
  const go = useView((s) => s.go);
  return (
    <nav className="view-switch" aria-label="Views">
      {VIEWS.map(({ view, text, chord }) => (
        <button
          key={view}
          type="button"
          className="view-switch-button"
          data-testid={`view-${view}`}
          aria-current={view === current ? 'page' : undefined}
          // A chord, which aria-keyshortcuts cannot express: the name says it.
          aria-label={`${text} (${chord})`}
          title={chord}
          // Focus stays where it was, so Space and Enter keep their meaning in the view.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => go(view)}
        >
          {text}
        </button>
      ))}
    </nav>
  );
}
