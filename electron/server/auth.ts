import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { IncomingMessage } from 'node:http';

export const newToken = (): string => randomBytes(24).toString('base64url');

/**
 * Cookies are shared by every port of a host, so the name carries the port: two servers on
 * 127.0.0.1 would otherwise overwrite each other's cookie and lock the older tab out.
 */
export const tokenCookieName = (port: number): string => `pickstudio_token_${port}`;

export type GuardDecision =
  | { kind: 'allow' }
  | { kind: 'refuse'; reason: string }
  /** A valid token in the URL: trade it for a cookie, and take it out of the address bar. */
  | { kind: 'login'; location: string; cookie: string };

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

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * The checks every request passes before any route, in order: a loopback peer, a Host header naming
 * this server (DNS rebinding), an Origin, when sent, of this server (cross-site requests), then the
 * token from the URL (first page load), the cookie, or an Authorization header (scripts).
 */
export function createGuard(options: { token: string; port: number }) {
  const hosts = [`127.0.0.1:${options.port}`, `localhost:${options.port}`];
  const origins = hosts.map((host) => `http://${host}`);
  const cookieName = tokenCookieName(options.port);

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

    const fromUrl = url.searchParams.get('token');
    if (fromUrl !== null && (req.method === 'GET' || req.method === 'HEAD')) {
      if (!sameToken(options.token, fromUrl)) return { kind: 'refuse', reason: 'wrong token' };
      const rest = new URLSearchParams(url.searchParams);
      rest.delete('token');
      const query = rest.size > 0 ? `?${rest}` : '';
      // One leading slash only: '//host/...' as a Location would leave this server.
      const location = `/${url.pathname.replace(/^\/+/, '')}${query}`;
      return {
        kind: 'login',
        location,
        cookie: `${cookieName}=${options.token}; HttpOnly; SameSite=Strict; Path=/`,
      };
    }

    const presented =
      cookieValue(req.headers.cookie, cookieName) ?? bearerToken(req.headers.authorization);
    if (presented === undefined) {
      return { kind: 'refuse', reason: 'no token: open the URL that pickstudio serve printed' };
    }
    if (!sameToken(options.token, presented)) return { kind: 'refuse', reason: 'wrong token' };
    return { kind: 'allow' };
  };
}
