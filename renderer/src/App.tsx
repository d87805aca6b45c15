import { useEffect } from 'react';
import { AnnotatorForm } from './components/AnnotatorForm';
import { Workspace } from './components/Workspace';
import { useAnnotator } from './state/annotator';
import { useProject } from './state/project';
import { labelerOf } from './state/team';

/**
 * The project must open, then someone must say who they are, then labeling starts (in a lead's
 * project the audit view is a key away: see Workspace). An annotator's package labels under its
 * annotator's name, so it asks nobody.
 */
export function App() {
  const status = useProject((s) => s.status);
  const error = useProject((s) => s.error);
  const team = useProject((s) => s.team);
  const chosen = useAnnotator((s) => s.name);
  const annotator = labelerOf(team, chosen).name;

  useEffect(() => {
    void useProject.getState().load();
  }, []);

  if (status !== 'ready') {
    return (
      <main className="labeling" data-testid="labeling-view" data-state={status} data-pair-id="">
        {status === 'loading' ? (
          <section className="empty" aria-busy="true">
            <p>Opening the project…</p>
          </section>
        ) : (
          <section className="empty" data-testid="project-error" role="alert">
            <h1>The project could not be opened</h1>
            <p className="error">{error}</p>
            <button type="button" onClick={() => void useProject.getState().load()}>
              Try again
            </button>
          </section>
        )}
      </main>
    );
  }
  if (annotator === null) return <AnnotatorForm />;
  return <Workspace annotator={annotator} />;
}
