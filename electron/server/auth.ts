import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { IncomingMessage } from 'node:http';

export const newToken = (): string => randomBytes(24).toString('base64url');

/**
 * The browser's session lives below a secret first path segment, `/<22 random characters>/`,
 * which is also its cookie's Path. Cookies are not isolated by port: one set by 127.0.0.1:PORT is
 * sent to every server on 127.0.0.1, and SameSite does not help (another port is the same site).
 * They are isolated by path, though, in every browser: a cookie goes only with requests whose path
 * lies below its Path. A server on another port sees it only if the browser asks it for a URL
 * below this secret, which the page never shows it (no Referer, no request to another origin).
 */
export const newSessionScope = (): string => `/${randomBytes(16).toString('base64url')}/`;

export const TOKEN_COOKIE = 'pickstudio_token';

const NO_TOKEN = 'no token: open the URL that pickstudio serve printed';
const WRONG_TOKEN = 'wrong token';

/**
 * Whether the guard refused only for the token: what a tab of a server since stopped or
 * restarted meets (its cookie's path, or the token in its address, is not this server's).
 */
export const refusedForToken = (reason: string): boolean =>
  reason === NO_TOKEN || reason === WRONG_TOKEN;

export type GuardDecision =
  /** `path`: the route, the request's path without the session scope. */
  | { kind: 'allow'; path: string }
  | { kind: 'refuse'; reason: string }
  /**
   * A valid token in the URL: trade it for a cookie scoped to the session's path, and go there
   * without the token in the address bar.
   */
  | { kind: 'login'; location: string; cookie: string };

export type Guard = (req: IncomingMessage, url: URL) => GuardDecision;

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

// Hashing first gives timingSafeEqual equal lengths, so not even the length is compared early.
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
const sameToken = (expected: string, candidate: string): boolean =>
  timingSafeEqual(digest(expected), digest(candidate));

/**
 * Every value of the cookie `name`: any page on 127.0.0.1 may set a cookie of that name with a wider
 * Path, which the browser then sends beside ours, so the first one is not necessarily ours.
 */
function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * The checks every request passes before any route, in order: a loopback peer, a Host header naming
 * this server (DNS rebinding), an Origin, when sent, of this server (cross-site requests), then the
 * token from the URL (first page load), the cookie (only below the session scope, where the browser
 * sends it), or an Authorization header (scripts, on any path). Below the scope and outside it, the
 * routes are the same.
 */
export function createGuard(options: { token: string; port: number; scope: string }): Guard {
  const hosts = [`127.0.0.1:${options.port}`, `localhost:${options.port}`];
  const origins = hosts.map((host) => `http://${host}`);
  const { scope } = options;

  return (req: IncomingMessage, url: URL): GuardDecision => {
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      return { kind: 'refuse', reason: 'only this computer may connect' };
    }
    if (!hosts.includes((req.headers.host ?? '').toLowerCase())) {
      return { kind: 'refuse', reason: 'unexpected Host header' };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) {
      return { kind: 'refuse', reason: 'cross-origin request refused' };
    }

    const scoped = url.pathname.startsWith(scope);
    const path = scoped ? `/${url.pathname.slice(scope.length)}` : url.pathname;

    const fromUrl = url.searchParams.get('token');
    if (fromUrl !== null && (req.method === 'GET' || req.method === 'HEAD')) {
      if (!sameToken(options.token, fromUrl)) return { kind: 'refuse', reason: WRONG_TOKEN };
      const rest = new URLSearchParams(url.searchParams);
      rest.delete('token');
      const query = rest.size > 0 ? `?${rest}` : '';
      // The scope starts with one slash and the rest with none: '//host/...' as a Location would
      // leave this server.
      const location = `${scope}${path.replace(/^\/+/, '')}${query}`;
      return {
        kind: 'login',
        location,
        cookie: `${TOKEN_COOKIE}=${options.token}; Path=${scope}; HttpOnly; SameSite=Strict`,
      };
    }

    const bearer = bearerToken(req.headers.authorization);
    const presented = [
      ...(scoped ? cookieValues(req.headers.cookie, TOKEN_COOKIE) : []),
      ...(bearer === undefined ? [] : [bearer]),
    ];
    if (presented.length === 0) {
      return { kind: 'refuse', reason: NO_TOKEN };
    }
    if (!presented.some((candidate) => sameToken(options.token, candidate))) {
      return { kind: 'refuse', reason: WRONG_TOKEN };
    }
    return { kind: 'allow', path };
  };
}
