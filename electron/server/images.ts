import type { IncomingMessage, ServerResponse } from 'node:http';
import { StudioError } from '../../shared/errors';
import type { ImageBytes } from '../core/io/images';
import { sendText } from './responses';

/**
 * GET /api/images/:uid. The uid is only a key looked up in the project, never a path, so a
 * `..` in it finds nothing. A uid names the same bytes for the project's life (a content hash or
 * the dataset's own uid), so the browser may keep them.
 */
export async function serveImage(
  req: IncomingMessage,
  res: ServerResponse,
  encodedUid: string,
  readImage: (uid: string) => Promise<ImageBytes>,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    return;
  }
  let uid: string;
  try {
    uid = decodeURIComponent(encodedUid);
  } catch {
    sendText(res, 404, 'no such image');
    return;
  }
  let image: ImageBytes;
  try {
    image = await readImage(uid);
  } catch (error) {
    if (error instanceof StudioError && error.code === 'not_found') {
      sendText(res, 404, 'no such image');
      return;
    }
    throw error;
  }
  res.writeHead(200, {
    'Content-Type': image.mime,
    'Content-Length': String(image.bytes.byteLength),
    'Cache-Control': 'private, max-age=31536000, immutable',
  });
  res.end(image.bytes);
}
