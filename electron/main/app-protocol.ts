import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { protocol, type CustomScheme } from 'electron';
import { CONTENT_TYPES } from '../../shared/content-types';
import { IMAGE_SCHEME } from './channels';
import { isWithin } from '../core/io/within';

/**
 * The built page comes from this scheme rather than file:// (Electron's security checklist, item
 * 18): a file:// page may read any other file:// URL, while this one reaches only out/renderer,
 * and the page has a real origin of its own.
 */
export const APP_SCHEME = 'pickstudio-app';
const APP_HOST = 'app';
/** The app's page: what the window loads, and the only page whose IPC calls are answered. */
export const APP_PAGE_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * Standard and secure: relative URLs resolve, and the page is a secure context with its own
 * origin, so `'self'` in the CSP means this folder. Fetch is for same-origin requests only (module
 * scripts); no CORS, CSP bypass or service workers.
 */
export const appScheme: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

/** Sent with every file, as index.html's own meta policy says, plus what only a header can say. */
export const APP_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    `default-src 'self'; img-src 'self' ${IMAGE_SCHEME}: data:; script-src 'self'; ` +
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

// The callback and sync forms: Electron reads them from inside app.asar, where the packaged
// renderer lives.
const readFile = promisify(fs.readFile);

/**
 * The regular file a URL names inside `rendererDir`, or null: another scheme or host, a malformed
 * or NUL-bearing path, one that climbs out (as written, or once links are resolved), a folder.
 */
export function rendererFile(rendererDir: string, url: string): string | null {
  let parsed: URL;
  let decoded: string;
  try {
    parsed = new URL(url);
    decoded = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  if (decoded.includes('\0')) return null;
  try {
    const root = fs.realpathSync(rendererDir);
    const relative = decoded === '/' ? 'index.html' : `.${path.sep}${decoded}`;
    const candidate = path.resolve(root, relative);
    if (!isWithin(root, candidate)) return null;
    const real = fs.realpathSync(candidate);
    return isWithin(root, real) && fs.statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

const notFound = (): Response =>
  new Response('not found', { status: 404, headers: { ...APP_HEADERS } });

/** The answer to one request for the page or its assets: GET and HEAD only, else a 404 or 405. */
export async function rendererResponse(
  rendererDir: string,
  request: { url: string; method: string },
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('method not allowed', {
      status: 405,
      headers: { ...APP_HEADERS, Allow: 'GET, HEAD' },
    });
  }
  const file = rendererFile(rendererDir, request.url);
  if (file === null) return notFound();
  try {
    const bytes = await readFile(file);
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(bytes), {
      headers: { ...APP_HEADERS, 'Content-Type': type },
    });
  } catch (error) {
    console.error(`${request.url} failed:`, error);
    return notFound();
  }
}

/** Serves `pickstudio-app://app/<file>` from the built renderer folder; nothing else. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => rendererResponse(rendererDir, request));
}
