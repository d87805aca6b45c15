import type { KeyboardEvent } from 'react';
import { bindingFor, describeChord, GO_KEYS } from '../../../shared/keys';
import { projectName, useProject } from '../state/project';
import { useView, type AuditTab } from '../state/view';
import { AuditDashboard } from './AuditDashboard';
import { GuidelinesEditor } from './GuidelinesEditor';
import { MergesPanel } from './MergesPanel';
import { ReviewPanel } from './ReviewPanel';
import { ViewSwitch } from './ViewSwitch';
// The top bar is the labeling view's, with other controls in it.
import './labeling.css';
import './audit.css';

/** `chord`: the `g` keys that lead to the tab, where there are some (else the arrows do). */
const TABS: { tab: AuditTab; text: string; chord: string | undefined }[] = [
  { tab: 'dashboard', text: 'Dashboard', chord: describeChord(bindingFor(GO_KEYS, 'dashboard')) },
  { tab: 'review', text: 'Review', chord: describeChord(bindingFor(GO_KEYS, 'review')) },
  { tab: 'merges', text: 'Merged', chord: undefined },
  { tab: 'guidelines', text: 'Guidelines', chord: undefined },
];

function TabPanel({ tab, annotator }: { tab: AuditTab; annotator: string }) {
  switch (tab) {
    case 'dashboard':
      return <AuditDashboard />;
    case 'review':
      return <ReviewPanel adjudicator={annotator} />;
    case 'merges':
      return <MergesPanel />;
    case 'guidelines':
      return <GuidelinesEditor />;
  }
}

/** Tabs as WAI-ARIA's pattern has them: arrows move between them while one has focus. */
function AuditTabs() {
  const current = useView((s) => s.auditTab);
  const go = useView((s) => s.go);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const index = TABS.findIndex((t) => t.tab === current);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    // Handled here, so review's verdict keys on the window leave it alone.
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length]!;
    go(next.tab);
    document.getElementById(`audit-tab-${next.tab}`)?.focus();
  };
  return (
    <div className="audit-tabs" role="tablist" aria-label="Audit" onKeyDown={onKeyDown}>
      {TABS.map(({ tab, text, chord }) => (
        <button
          key={tab}
          id={`audit-tab-${tab}`}
          type="button"
          role="tab"
          className="audit-tab"
          data-testid={`audit-tab-${tab}`}
          aria-selected={tab === current}
          aria-controls="audit-panel"
          tabIndex={tab === current ? 0 : -1}
          title={chord}
          // A click leaves focus where it was, so the arrows stay review's verdict keys.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => go(tab)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}

/** The lead's desk: agreement figures, the disagreements to settle, and what was merged in. */
export function AuditView({ annotator }: { annotator: string }) {
  const tab = useView((s) => s.auditTab);
  const stats = useProject((s) => s.stats);
  return (
    <div
      className="audit"
      data-testid="audit-view"
      data-tab={tab}
      // Keys typed in a field are the field's; Esc leaves it, handing them back to the view.
      onKeyDown={(event) => {
        const target = event.target;
        if (
          event.key === 'Escape' &&
          target instanceof HTMLElement &&
          target.closest('input, select, textarea')
        ) {
          target.blur();
        }
      }}
    >
      <header className="topbar audit-topbar">
        <span className="topbar-project" title={stats?.project}>
          {projectName(stats)}
        </span>
        <ViewSwitch />
        <AuditTabs />
        <span className="topbar-annotator">
          Adjudicating as <strong data-testid="adjudicator">{annotator}</strong>
        </span>
      </header>
      <main id="audit-panel" role="tabpanel" aria-labelledby={`audit-tab-${tab}`}>
        <TabPanel tab={tab} annotator={annotator} />
      </main>
    </div>
  );
}
