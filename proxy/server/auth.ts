// Access control for the dashboard when it listens beyond loopback: a token printed at start, handed to the
// browser once through `/?token=…` and kept in an HttpOnly cookie; mutations also need a same-origin JSON request.
import crypto from 'node:crypto';
import type express from 'express';
import { fromOwnOrigin, type HostCheck } from './host-check';

export const TOKEN_COOKIE = 'leakscope_token';

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(/;\s*/)) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i) === name) return decodeURIComponent(part.slice(i + 1));
  }
  return undefined;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Checks a request's token (cookie or `x-leakscope-token` header). Always true without a token. */
export function hasToken(token: string | undefined, cookieHeader: string | undefined, headerToken?: string): boolean {
  if (!token) return true;
  return sameToken(cookieValue(cookieHeader, TOKEN_COOKIE), token) || sameToken(headerToken, token);
}

export function requireToken(token: string | undefined): express.RequestHandler {
  return (req, res, next) => {
    if (!token) return next();
    if (typeof req.query.token === 'string' && sameToken(req.query.token, token)) {
      res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict' });
      return res.redirect(req.path);
    }
    if (hasToken(token, req.headers.cookie, req.get('x-leakscope-token'))) return next();
    res.status(401).type('text').send('leakscope: open the dashboard through the URL with the token printed at start\n');
  };
}

/** State-changing API calls: JSON only, and from a page of our own origin (no cross-site form posts or fetches). */
export function requireSameOriginJson(allowed: HostCheck): express.RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'send JSON (content-type: application/json)' });
      return;
    }
    if (!fromOwnOrigin(req, allowed)) {
      res.status(403).json({ error: 'refused: a change must come from the dashboard\'s own origin (Origin or Sec-Fetch-Site: same-origin)' });
      return;
    }
    next();
  };
}
