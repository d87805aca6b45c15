import type { PreparedImage } from '../state/images';

interface Props {
  side: 'left' | 'right';
  image: PreparedImage;
  /** Highlighted when revisiting a decision that chose this image (both for a tie). */
  chosen: boolean;
}

export function ImagePanel({ side, image, chosen }: Props) {
  const label = side === 'left' ? 'Left image' : 'Right image';
  const testId = `image-${side}`;
  return (
    <figure className={`panel${chosen ? ' panel-chosen' : ''}`}>
      {image.status === 'ok' ? (
        // The prefetch decoded this URL already: the page's image cache paints it at once.
        <img
          data-testid={testId}
          data-image-uid={image.uid}
          src={image.url}
          alt={label}
          draggable={false}
        />
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
          <p className="hint">Space to skip</p>
        </div>
      )}
      <figcaption className="panel-caption" aria-hidden="true">
        {side === 'left' ? '← 1' : '2 →'}
      </figcaption>
    </figure>
  );
}
