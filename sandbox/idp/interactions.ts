// The sandbox identity provider's sign-in pages, for the portal's authorization code flow with PKCE: a
// plain, accessible form (labels, one error summary, no scripts) where a sandbox caseworker signs in with
// their username and the sandbox password, and consent given on the LA's behalf for its own portal (a
// first-party client, so caseworkers are not asked).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { readBody } from '../../lib/graphql/http.ts';

export const INTERACTION_PATH = '/interaction/';
/** The one password of every synthetic caseworker: the sandbox holds no real people and listens on loopback only. */
export const SANDBOX_PASSWORD = 'sandbox';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page of the identity provider: plain, large type, strong focus, no scripts. */
function layout(la: string, title: string, content: string): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} – ${escape(la)} (sandbox)</title>
<style>
  body { font-family: Arial, sans-serif; font-size: 19px; line-height: 1.3; color: #0b0c0c; margin: 0; background: #fff; }
  header { background: #0b0c0c; color: #fff; padding: 10px 15px; font-weight: bold; }
  main { max-width: 640px; margin: 0 auto; padding: 20px 15px; }
  label { display: block; font-weight: bold; margin: 20px 0 5px; }
  input { font-size: 19px; padding: 5px; width: 100%; max-width: 20em; border: 2px solid #0b0c0c; box-sizing: border-box; }
  input:focus, button:focus { outline: 3px solid #fd0; box-shadow: inset 0 0 0 2px #0b0c0c; }
  button { margin-top: 25px; margin-right: 10px; font-size: 19px; padding: 8px 15px; background: #00703c; color: #fff; border: 0; box-shadow: 0 2px 0 #002d18; cursor: pointer; }
  button.secondary { background: #f3f2f1; color: #0b0c0c; box-shadow: 0 2px 0 #929191; }
  .error-summary { border: 5px solid #d4351c; padding: 15px; margin-bottom: 20px; }
  .hint { color: #505a5f; }
</style>
</head>
<body>
<header>${escape(la)} – MAIS sandbox</header>
<main>
${content}
</main>
</body>
</html>`;
}

function page(la: string, uid: string, problem?: string, username = ''): string {
  return layout(
    la,
    `${problem ? 'Error: ' : ''}Sign in`,
    `${problem ? `<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2><p>${escape(problem)}</p></div>` : ''}
<h1>Sign in</h1>
<p class="hint">A sandbox caseworker (see <code>npm run -s mais -- demo</code>). Every sandbox caseworker's password is <code>${SANDBOX_PASSWORD}</code>.</p>
<form method="post" action="${INTERACTION_PATH}${escape(uid)}/login">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${escape(username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required${problem ? ' aria-invalid="true"' : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}

/** The sign-out confirmation (oidc-provider's logoutSource): `form` is the provider's own hidden form. */
export function signOutPage(la: string, form: string): string {
  return layout(
    la,
    'Sign out',
    `<h1>Sign out</h1>
<p>Sign out of your ${escape(la)} account on this device? You will need your password to sign in again.</p>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
  );
}

/** The page's policy: no scripts; the form posts here, and the redirects after it end at the portal. */
function sendPage(res: ServerResponse, status: number, html: string, portalOrigins: string[]): void {
  const policy = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${portalOrigins.join(' ')}; frame-ancestors 'none'`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': policy });
  res.end(html);
}

/** Handles /interaction/<uid> (GET: the page, or consent) and /interaction/<uid>/login (POST). */
export function interactionHandler(provider: Provider, options: { la: string; audience: string; isUser(username: string): boolean; portalOrigins: string[] }) {
  const send = (res: ServerResponse, status: number, html: string) => sendPage(res, status, html, options.portalOrigins);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      return send(res, 400, page(options.la, '', 'This sign-in has expired. Go back to the portal and sign in again.'));
    }
    const { uid, prompt, params, session } = details;
    if (prompt.name === 'login') {
      if (req.method === 'GET') return send(res, 200, page(options.la, uid));
      if (req.method !== 'POST' || !(req.url ?? '').endsWith('/login')) return send(res, 405, page(options.la, uid, 'Use the sign-in form.'));
      const form = new URLSearchParams(await readBody(req, 4096));
      const username = (form.get('username') ?? '').trim();
      if (!options.isUser(username) || form.get('password') !== SANDBOX_PASSWORD) {
        return send(res, 401, page(options.la, uid, 'The username or password is not right.', username));
      }
      return void (await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false }));
    }
    if (prompt.name === 'consent') {
      // The LA's own portal: the LA consents for it, to exactly what it asked for.
      const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
      grant.addOIDCScope('openid');
      grant.addResourceScope(options.audience, 'openid');
      const grantId = await grant.save();
      return void (await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true }));
    }
    send(res, 400, page(options.la, uid, 'This sign-in cannot continue. Go back to the portal and sign in again.'));
  };
}
