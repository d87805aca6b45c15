import { useEffect, useState } from 'react';
import {
  QUEUE_ORDERS,
  SUGGESTION_MODES,
  type ProjectSettings,
  type SuggestionMode,
} from '../../../shared/api';
import { SUGGESTION_MODE_TEXT, useProject } from '../state/project';

type QueueOrder = (typeof QUEUE_ORDERS)[number];

const QUEUE_ORDER_TEXT: Record<QueueOrder, string> = {
  project: 'project order',
  uncertainty: "the model's least certain pairs first",
};

/**
 * Whether annotators see the model's opinion, and when: an experimental condition of the whole
 * project, so it is set here rather than by each annotator; open labeling views follow at once.
 */
function SuggestionModeSetting({ mode }: { mode: SuggestionMode }) {
  const changeSettings = useProject((s) => s.changeSettings);
  return (
    <fieldset>
      <legend>Model suggestions while labeling</legend>
      <p className="hint">For everyone labeling this project.</p>
      {SUGGESTION_MODES.map((option) => (
        <label key={option} className="choice">
          <input
            type="radio"
            name="suggestion-mode"
            data-testid={`setting-suggestions-${option}`}
            checked={mode === option}
            onChange={() => void changeSettings({ suggestionMode: option })}
          />
          {SUGGESTION_MODE_TEXT[option]}
        </label>
      ))}
    </fieldset>
  );
}

/** Annotators per pair: everyone, or a number typed and saved on Enter or when the field is left. */
function OverlapSetting({ overlap }: { overlap: ProjectSettings['overlap'] }) {
  const changeSettings = useProject((s) => s.changeSettings);
  const [typed, setTyped] = useState(String(overlap ?? 3));
  useEffect(() => {
    if (overlap !== null) setTyped(String(overlap));
  }, [overlap]);
  const typedOverlap = Number(typed);
  const valid = Number.isInteger(typedOverlap) && typedOverlap >= 1 && typedOverlap <= 100;
  const saveTyped = (): void => {
    if (valid && typedOverlap !== overlap) void changeSettings({ overlap: typedOverlap });
  };
  return (
    <fieldset>
      <legend>Annotators per pair</legend>
      <p className="hint">A pair leaves the queues once this many have decided it.</p>
      <label className="choice">
        <input
          type="radio"
          name="overlap"
          data-testid="setting-overlap-everyone"
          checked={overlap === null}
          onChange={() => void changeSettings({ overlap: null })}
        />
        everyone, every pair
      </label>
      <label className="choice">
        <input
          type="radio"
          name="overlap"
          data-testid="setting-overlap-k"
          checked={overlap !== null}
          onChange={() => valid && void changeSettings({ overlap: typedOverlap })}
        />
        <input
          type="number"
          className="overlap-count"
          data-testid="setting-overlap"
          aria-label="Annotators per pair"
          aria-invalid={!valid}
          aria-describedby={valid ? undefined : 'overlap-problem'}
          min={1}
          max={100}
          step={1}
          value={typed}
          onChange={(e) => setTyped(e.currentTarget.value)}
          onBlur={saveTyped}
          onKeyDown={(e) => e.key === 'Enter' && saveTyped()}
        />
        annotators
      </label>
      {!valid && (
        <p id="overlap-problem" className="error">
          A whole number from 1 to 100.
        </p>
      )}
    </fieldset>
  );
}

function QueueOrderSetting({ queueOrder }: { queueOrder: QueueOrder }) {
  const changeSettings = useProject((s) => s.changeSettings);
  return (
    <>
      <label htmlFor="setting-queue-order">Queue order</label>
      <select
        id="setting-queue-order"
        data-testid="setting-queue-order"
        value={queueOrder}
        onChange={(e) => void changeSettings({ queueOrder: e.currentTarget.value as QueueOrder })}
      >
        {QUEUE_ORDERS.map((order) => (
          <option key={order} value={order}>
            {QUEUE_ORDER_TEXT[order]}
          </option>
        ))}
      </select>
    </>
  );
}

/**
 * The lead's say on how and what annotators label: the model's suggestions, annotators per pair,
 * and the queue's order.
 */
export function ProjectSettingsPanel() {
  const settings = useProject((s) => s.settings);
  const error = useProject((s) => s.settingsError);
  if (!settings) return null;
  return (
    // A section, not a form: the page has nothing to submit anywhere (security.spec.ts).
    <section className="side-panel" data-testid="project-settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Project settings</h2>
      <SuggestionModeSetting mode={settings.suggestionMode} />
      <OverlapSetting overlap={settings.overlap} />
      <QueueOrderSetting queueOrder={settings.queueOrder} />
      {error !== null && (
        <p className="error" role="alert" data-testid="settings-error">
          {error}
        </p>
      )}
    </section>
  );
}
