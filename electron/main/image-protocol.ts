import { protocol, type CustomScheme } from 'electron';
import { StudioError } from '../../shared/errors';
import type { ImageBytes } from '../core/io/images';
import { IMAGE_SCHEME, uidFromImageUrl } from './channels';

/**
 * Registered as privileged with the app's own scheme, before the app is ready (electron/main/index).
 * Standard and secure give the scheme real URLs and a secure context, so <img> and fetch in the
 * sandboxed page may load from it.
 */
export const imageScheme: CustomScheme = {
  scheme: IMAGE_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

const notFound = (): Response => new Response('no such image', { status: 404 });

/** Serves `pickstudio-image://image/<uid>` from the open project; any other URL is a 404. */
export function serveImages(readImage: (uid: string) => Promise<ImageBytes>): void {
  protocol.handle(IMAGE_SCHEME, async (request) => {
    const uid = uidFromImageUrl(request.url);
    if (uid === null) return notFound();
    try {
      const { bytes, mime } = await readImage(uid);
      return new Response(bytes, {
        headers: {
          'Content-Type': mime,
          // A uid is not always a content hash (a dataset's own uids, a rewritten manifest file,
          // another project opened in the same window), so nothing may be reused unasked.
          'Cache-Control': 'private, no-cache',
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch (error) {
      if (error instanceof StudioError && error.code === 'not_found') return notFound();
      console.error(`${request.url} failed:`, error);
      return new Response('internal error', { status: 500 });
    }
  });
}
