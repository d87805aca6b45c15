import type { ReactNode } from 'react';
import type { PreparedImage } from '../state/images';
import { labelingKeys } from '../state/keys';
import type { Side } from '../state/suggestion';
import { useZoom } from '../state/zoom';
import { SuggestionBar } from './SuggestionBar';
import { toggleZoomOnClick } from './useZoomPanes';

interface Props {
  side: Side;
  image: PreparedImage;
  /** Highlighted when revisiting a decision that chose this image (both for a tie). */
  chosen: boolean;
  /** Room for the model's bar under the image, kept even while the bar is hidden. */
  barRoom: boolean;
  /** The bar's contents when it is on screen. */
  suggestion: { model: string; p: number } | null;
  /** What to flash on this image when the model preferred it to the verdict just saved. */
  disagreement: string | null;
  /** At full size in a pane that scrolls with the other's (state/zoom.ts). */
  zoomed: boolean;
}

/** A zoomed image's pane; the wheel pans both. */
function ZoomPane({ side, children }: { side: Side; children: ReactNode }) {
  return (
    <div
      className="zoom-pane"
      data-testid={`zoom-${side}`}
      onWheel={(e) => useZoom.getState().panBy(e.deltaX, e.deltaY)}
    >
      {children}
    </div>
  );
}

export function ImagePanel({
  side,
  image,
  chosen,
  barRoom,
  suggestion,
  disagreement,
  zoomed,
}: Props) {
  const label = side === 'left' ? 'Left image' : 'Right image';
  const testId = `image-${side}`;
  const classes = ['panel'];
  if (chosen) classes.push('panel-chosen');
  if (disagreement !== null) classes.push('panel-disagreement');
  if (zoomed) classes.push('panel-zoomed');
  return (
    <div className="side">
      <figure className={classes.join(' ')}>
        {image.status === 'ok' ? (
          // The prefetch decoded this URL already: the page's image cache paints it at once.
          zoomed ? (
            <ZoomPane side={side}>
              <img
                data-testid={testId}
                data-image-uid={image.uid}
                src={image.url}
                alt={`${label}, full size`}
                draggable={false}
                onClick={toggleZoomOnClick}
              />
            </ZoomPane>
          ) : (
            <img
              data-testid={testId}
              data-image-uid={image.uid}
              src={image.url}
              alt={label}
              draggable={false}
              onClick={toggleZoomOnClick}
            />
          )
        ) : (
          <div
            data-testid={testId}
            data-image-uid={image.uid}
            className="panel-missing"
            role="img"
            aria-label={`${label} is missing: ${image.uid}`}
          >
            <p>
              {image.status === 'missing'
                ? 'This image is missing from the project'
                : 'This image could not be loaded'}
            </p>
            <code>{image.uid}</code>
            <p className="hint">{labelingKeys('skip').keys} to skip</p>
          </div>
        )}
        {disagreement !== null && (
          <p className="disagreement" data-testid="disagreement">
            {disagreement}
          </p>
        )}
        {/* Zoomed, the arrows pan: the side's keys would say otherwise. */}
        {!zoomed && (
          <figcaption className="panel-caption" aria-hidden="true">
            {labelingKeys(side).keys}
          </figcaption>
        )}
      </figure>
      {barRoom && (
        <div className="suggestion-room">
          {suggestion && <SuggestionBar side={side} model={suggestion.model} p={suggestion.p} />}
        </div>
      )}
    </div>
  );
}
