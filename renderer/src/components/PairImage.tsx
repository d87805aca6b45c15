import { useState } from 'react';
import { studio } from '../studio';

interface Props {
  uid: string;
  /** 0 or 1: which image of the pair, as every verdict names it. */
  index: 0 | 1;
  className?: string;
}

/** One image of a pair by its uid, through the transport's image URL; a placeholder if it fails. */
export function PairImage({ uid, index, className }: Props) {
  const [failed, setFailed] = useState(false);
  if (failed) {
    return (
      <div
        className={`pair-image-missing ${className ?? ''}`}
        role="img"
        aria-label={`Image ${index} could not be loaded: ${uid}`}
        data-image-uid={uid}
      >
        missing
      </div>
    );
  }
  return (
    <img
      className={className}
      src={studio.imageUrl(uid)}
      alt={`Image ${index}`}
      data-image-uid={uid}
      loading="lazy"
      decoding="async"
      draggable={false}
      onError={() => setFailed(true)}
    />
  );
}
