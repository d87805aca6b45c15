import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_TYPES } from '../../shared/content-types';
import { sendText } from './responses';
import { isWithin } from '../core/io/within';

/** The regular file at `candidate` (or its index.html, for a folder), once links are resolved. */
async function realFileInside(root: string, candidate: string): Promise<string | null> {
  let real: string;
  let stat: fs.Stats;
  try {
    real = await fs.promises.realpath(candidate);
    stat = await fs.promises.stat(real);
  } catch {
    return null;
  }
  if (!isWithin(root, real)) return null;
  if (stat.isDirectory()) return realFileInside(root, path.join(real, 'index.html'));
  return stat.isFile() ? real : null;
}

/** The path a URL names below `root`, or null where it is malformed or climbs out of it. */
function pathInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const candidate = path.resolve(root, `.${path.sep}${decoded}`);
  return isWithin(root, candidate) ? candidate : null;
}

/** The file, or index.html for a missing path without an extension (a page of the app). */
async function fileOrAppPage(root: string, candidate: string): Promise<string | null> {
  const file = await realFileInside(root, candidate);
  if (file !== null || path.extname(candidate) !== '') return file;
  return realFileInside(root, path.join(root, 'index.html'));
}

/**
 * Serves the built renderer from `root` (already a real path). A missing asset is a plain 404, so a
 * broken build shows as such rather than as HTML parsed as a script.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    return;
  }
  // Checked twice: as written (no `..` out of the folder), then once links are resolved.
  const candidate = pathInside(root, urlPath);
  const file = candidate === null ? null : await fileOrAppPage(root, candidate);
  if (file === null) {
    sendText(res, 404, 'not found');
    return;
  }
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // The status is sent by now: a client gone mid-file, or a failed read, only ends the answer.
    await pipeline(handle.createReadStream({ autoClose: false }), res).catch(() => res.destroy());
  } finally {
    await handle.close();
  }
}
