import { useLayoutEffect, useRef } from 'react';
import { describeDecision, sideOf, verdictOfSide } from '../../../shared/labels';
import { labelingKeys } from '../state/keys';
import { useLabeling, type Shown } from '../state/labeling';
import { useProject } from '../state/project';
import {
  describePreference,
  modelPreference,
  sideProbabilities,
  type Side,
} from '../state/suggestion';
import { timing } from '../state/timing';
import { ImagePanel } from './ImagePanel';
import { useZoomPanes } from './useZoomPanes';
import './desk.css';

function RevisitBanner({ shown }: { shown: Shown }) {
  const backToQueue = useLabeling((s) => s.backToQueue);
  const { pair } = shown.prepared;
  const current =
    pair.decision === null ? null : describeDecision(pair.decision, { leftImage: pair.leftImage });
  if (shown.origin === 'undo') {
    return (
      <p className="banner" data-testid="revisit-banner">
        Undone: decide this pair again.
        {current && ` An earlier decision still stands (${current}); a key replaces it.`}
      </p>
    );
  }
  return (
    <p className="banner" data-testid="revisit-banner">
      Revisiting: {current ? `your decision is ${current}` : 'no decision stands'}. Press a key to
      replace it, or {labelingKeys('escape').keys} to go back to the queue.{' '}
      <button
        type="button"
        className="link-button"
        onMouseDown={(e) => e.preventDefault()}
        onClick={() => void backToQueue()}
      >
        Back to the queue
      </button>
    </p>
  );
}

/** A pair skipped once, back after the undecided ones (getQueue): what another skip means. */
function SkippedBefore() {
  const skip = labelingKeys('skip').keys;
  return (
    <p className="skipped-before" data-testid="skipped-before">
      <span className="skipped-before-badge">Skipped before</span> Back once: decide it now, or{' '}
      {skip} again to leave it skipped.
    </p>
  );
}

/** While zoomed: what the keys do now. */
function ZoomHint() {
  return (
    <p className="banner zoom-hint" data-testid="zoom-hint">
      Full size (100%), both images together: arrows pan, Shift+arrows a screenful, Home centres;{' '}
      {labelingKeys('zoom').keys} or {labelingKeys('escape').keys} to go back and decide.
    </p>
  );
}

/**
 * Type size by length, so that Pick-a-Pic's longest prompts (about 600 characters) are read whole
 * at 1024x640 without a key or the mouse (see .prompt in labeling.css).
 */
function promptClass(prompt: string): string {
  const { length } = prompt;
  if (length > 1200) return 'prompt prompt-longest prompt-huge';
  if (length > 280) return 'prompt prompt-longest';
  if (length > 120) return 'prompt prompt-long';
  return 'prompt';
}

/**
 * The prompt and the two images on the sides of this showing (drawn at random for a new pair, as
 * decided for a decided one), with the model's bars under them as the project's mode says.
 */
export function PairView({ shown }: { shown: Shown }) {
  const painted = useLabeling((s) => s.painted);
  const suggestionSeen = useLabeling((s) => s.suggestionSeen);
  const revealed = useLabeling((s) => s.revealedSeq === shown.seq);
  const mode = useProject((s) => s.settings?.suggestionMode ?? 'hidden');
  const root = useRef<HTMLElement>(null);
  const zoomed = useZoomPanes(root, shown.seq);
  const { pair, images } = shown.prepared;
  const { suggestion } = pair;
  const left = images[verdictOfSide('left', pair.leftImage)];
  const right = images[verdictOfSide('right', pair.leftImage)];
  const decision = shown.origin === 'queue' ? null : pair.decision;
  const chosen = (side: Side): boolean =>
    decision === 'tie' ||
    (decision !== null && decision !== 'skip' && sideOf(decision, pair.leftImage) === side);

  const preSuggested = suggestion !== null && mode === 'before';
  // Only a disagreement is revealed: an agreeing verdict moves on in the same frame.
  const disagreed = suggestion !== null && mode === 'after' && revealed;
  const sides =
    suggestion && (preSuggested || disagreed)
      ? sideProbabilities(suggestion, pair.leftImage)
      : null;
  const bar = (side: Side) =>
    suggestion && sides ? { model: suggestion.model, p: sides[side] } : null;
  const flashSide =
    suggestion && disagreed ? modelPreference(suggestion, pair.leftImage).side : null;
  const flash = (side: Side) =>
    suggestion && side === flashSide ? describePreference(suggestion, pair.leftImage) : null;
  const barRoom = suggestion !== null && mode !== 'hidden';

  useLayoutEffect(() => {
    if (preSuggested) suggestionSeen(shown.seq);
  }, [preSuggested, shown.seq, suggestionSeen]);

  useLayoutEffect(() => {
    const imgs = [...(root.current?.querySelectorAll('img') ?? [])];
    const complete = imgs.length === 2 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    timing.rendered(pair.pairId, complete, (at) => painted(shown.seq, at));
    // One measurement per showing: the effect runs when a new showing is in the DOM.
  }, [shown.seq, pair.pairId, painted]);

  return (
    <section
      className="pair"
      ref={root}
      aria-label={`Pair ${pair.pairId}`}
      data-zoomed={zoomed || undefined}
    >
      <p className={promptClass(pair.prompt)} data-testid="prompt">
        {pair.prompt}
      </p>
      {shown.origin !== 'queue' && <RevisitBanner shown={shown} />}
      {shown.origin === 'queue' && pair.decision === 'skip' && <SkippedBefore />}
      {zoomed && <ZoomHint />}
      <div className="images">
        <ImagePanel
          key={`l:${shown.seq}`}
          side="left"
          image={left}
          chosen={chosen('left')}
          barRoom={barRoom}
          suggestion={bar('left')}
          disagreement={flash('left')}
          zoomed={zoomed}
        />
        <ImagePanel
          key={`r:${shown.seq}`}
          side="right"
          image={right}
          chosen={chosen('right')}
          barRoom={barRoom}
          suggestion={bar('right')}
          disagreement={flash('right')}
          zoomed={zoomed}
        />
      </div>
    </section>
  );
}
