// The reference portal (portal/, built into portal/dist at install) served at /portal: its files, its
// sign-in settings at /portal/config.json (the LA's identity provider, the portal's client id and the
// router's audience), and index.html for its own routes (/portal/, /portal/callback). A strict
// content security policy lets it talk only to the router and the identity provider.
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PORTAL_DIST = fileURLToPath(new URL('../portal/dist/', import.meta.url));
/** The portal's operations, extracted at build time: the router runs no other for the portal's sign-ins. */
export const PORTAL_MANIFEST = join(PORTAL_DIST, 'persisted-query-manifest.json');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon' };

export interface PortalSettings {
  la: string;
  issuer: string;
  clientId: string;
  audience: string;
}

/** Answers /portal requests, or false for any other path. Throws at start when the portal is not built. */
export function portalHandler(settings: PortalSettings): (res: ServerResponse, path: string) => boolean {
  if (!existsSync(join(PORTAL_DIST, 'index.html')) || !existsSync(PORTAL_MANIFEST)) throw new Error(`the portal is not built (${PORTAL_DIST}): run npm install, or npm run build:portal`);
  const index = readFileSync(join(PORTAL_DIST, 'index.html'));
  const config = JSON.stringify(settings);
  const policy = `default-src 'self'; connect-src 'self' ${new URL(settings.issuer).origin}; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'`;
  const headers = (type: string, cache: string) => ({ 'content-type': type, 'cache-control': cache, 'content-security-policy': policy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  return (res, path) => {
    if (path !== '/portal' && !path.startsWith('/portal/')) return false;
    if (path === '/portal/config.json') return void res.writeHead(200, headers('application/json', 'no-store')).end(config), true;
    if (path.startsWith('/portal/assets/')) {
      const file = normalize(join(PORTAL_DIST, path.slice('/portal/'.length)));
      if (file.startsWith(join(PORTAL_DIST, 'assets')) && existsSync(file)) {
        res.writeHead(200, headers(TYPES[extname(file)] ?? 'application/octet-stream', 'public, max-age=31536000, immutable')).end(readFileSync(file));
        return true;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return true;
    }
    res.writeHead(200, headers('text/html; charset=utf-8', 'no-store')).end(index);
    return true;
  };
}
