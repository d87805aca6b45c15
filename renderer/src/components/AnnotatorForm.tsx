import { useState, type FormEvent } from 'react';
import { annotatorNameProblem, useAnnotator } from '../state/annotator';
import { projectName, useProject } from '../state/project';

const number = new Intl.NumberFormat();

/** Asked once, remembered in localStorage; "Switch" in the top bar brings it back. */
export function AnnotatorForm() {
  const lastName = useAnnotator((s) => s.lastName);
  const choose = useAnnotator((s) => s.choose);
  const stats = useProject((s) => s.stats);
  const [name, setName] = useState(lastName);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const found = annotatorNameProblem(name);
    setProblem(found);
    if (found === null) choose(name);
  };

  return (
    <main className="start">
      <form className="start-form" aria-labelledby="start-title" onSubmit={submit} noValidate>
        <h1 id="start-title">Who is labeling?</h1>
        {stats && (
          <p className="start-project">
            {projectName(stats)} · {number.format(stats.counts.pairs)} pairs
          </p>
        )}
        <label htmlFor="annotator-name">Your name</label>
        <input
          id="annotator-name"
          name="annotator"
          data-testid="annotator-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          maxLength={100}
          aria-invalid={problem !== null}
          aria-describedby={problem !== null ? 'annotator-problem' : undefined}
        />
        {problem !== null && (
          <p id="annotator-problem" className="error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" data-testid="annotator-submit">
          Start labeling
        </button>
        <p className="hint">
          Decisions are recorded under this name. Press <kbd>?</kbd> while labeling to see the keys.
        </p>
      </form>
    </main>
  );
}
