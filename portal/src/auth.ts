// Sign-in with the LA's identity provider: the authorization code flow with PKCE. Tokens are kept in
// memory only (a reload signs the caseworker in again); only the PKCE verifier and state wait in
// sessionStorage across the redirect, and are removed when the caseworker comes back.
export interface PortalConfig {
  la: string;
  issuer: string;
  clientId: string;
  audience: string;
}

export interface Session {
  accessToken: string;
  /** For signing out at the identity provider (id_token_hint). */
  idToken: string | undefined;
  name: string;
  username: string;
  roles: string[];
  expiresAt: number;
}

const PENDING = 'mais-portal-sign-in';
const base64url = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
export const callbackUrl = () => `${location.origin}/portal/callback`;
export const signedOutUrl = () => `${location.origin}/portal/`;

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Forgets the tokens (they lived only in this page) and ends the session at the identity provider too. */
export function signOut(config: PortalConfig, session: Session): void {
  const query = new URLSearchParams({ client_id: config.clientId, post_logout_redirect_uri: signedOutUrl(), ...(session.idToken ? { id_token_hint: session.idToken } : {}) });
  location.assign(`${config.issuer}/session/end?${query}`);
}

export async function signIn(config: PortalConfig): Promise<void> {
  const verifier = random();
  const state = random();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({ client_id: config.clientId, response_type: 'code', redirect_uri: callbackUrl(), scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state, resource: config.audience });
  location.assign(`${config.issuer}/auth?${query}`);
}

function claims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
}

/** Finishes a sign-in on /portal/callback; null when this is not a callback. Throws when it failed. */
export async function completeSignIn(config: PortalConfig): Promise<Session | null> {
  if (location.pathname !== '/portal/callback') return null;
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/portal/');
  if (params.get('error')) throw new Error(`The identity provider refused the sign-in (${params.get('error')}).`);
  if (!pending || params.get('state') !== pending.state || !params.get('code')) throw new Error('This sign-in did not start here. Sign in again.');
  const response = await fetch(`${config.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: callbackUrl(), client_id: config.clientId, code_verifier: pending.verifier, resource: config.audience }),
  });
  const body = (await response.json()) as { access_token?: string; id_token?: string; expires_in?: number };
  if (!response.ok || !body.access_token) throw new Error('The sign-in could not be completed. Sign in again.');
  const token = claims(body.access_token);
  return {
    accessToken: body.access_token,
    idToken: body.id_token,
    username: String(token.sub ?? ''),
    name: String(token.name ?? token.sub ?? ''),
    roles: Array.isArray(token.roles) ? token.roles.map(String) : [],
    expiresAt: Date.now() + (body.expires_in ?? 300) * 1000,
  };
}
