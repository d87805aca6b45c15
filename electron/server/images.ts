import type { IncomingMessage, ServerResponse } from 'node:http';
import { StudioError } from '../../shared/errors';
import { sha256Hex, type ImageBytes } from '../core/io/images';
import { sendText } from './responses';

/** Whether an If-None-Match header names `etag` (or any version, `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/**
 * GET /api/images/:uid. The uid is only a key looked up in the project, never a path, so a
 * `..` in it finds nothing. A uid does not always name the same bytes: a dataset's uids are not
 * content hashes, a manifest's file may be rewritten, and the project on this port may be another
 * one next run. So the browser asks again every time, and gets a 304 while the bytes are the same.
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
  const etag = `"${sha256Hex(image.bytes)}"`;
  const validators = { ETag: etag, 'Cache-Control': 'private, no-cache' };
  if (matches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, validators);
    res.end();
    return;
  }
  res.writeHead(200, {
    ...validators,
    'Content-Type': image.mime,
    'Content-Length': String(image.bytes.byteLength),
  });
  res.end(image.bytes);
}
