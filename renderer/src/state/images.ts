import type { LabelPair } from '../../../shared/api';
import { studio } from '../studio';

export type ImageStatus = 'ok' | 'missing' | 'failed';

export interface PreparedImage {
  uid: string;
  url: string;
  status: ImageStatus;
  /**
   * The decoded prefetch element. Holding it keeps the decoded image in the page's memory cache
   * until the pair is shown, so the view's <img> with the same URL paints in the same frame.
   */
  element: HTMLImageElement | null;
}

/** A pair whose images are decoded (or known to be missing): ready to be shown at once. */
export interface PreparedPair {
  pair: LabelPair;
  /** By image index (0, 1), not by side. */
  images: [PreparedImage, PreparedImage];
}

async function prepareImage(ref: LabelPair['image0']): Promise<PreparedImage> {
  const url = studio.imageUrl(ref.uid);
  if (!ref.available) return { uid: ref.uid, url, status: 'missing', element: null };
  const element = new Image();
  element.decoding = 'async';
  element.src = url;
  try {
    await element.decode();
    return { uid: ref.uid, url, status: 'ok', element };
  } catch {
    // A 404, a body that is not an image, a dropped connection: shown as a placeholder.
    return { uid: ref.uid, url, status: 'failed', element: null };
  }
}

/** Fetches and decodes both images; never rejects (a failed image is marked, not thrown). */
export async function preparePair(pair: LabelPair): Promise<PreparedPair> {
  const [image0, image1] = await Promise.all([
    prepareImage(pair.image0),
    prepareImage(pair.image1),
  ]);
  return { pair, images: [image0, image1] };
}

export function bothShowable(prepared: PreparedPair): boolean {
  return prepared.images.every((image) => image.status === 'ok');
}
