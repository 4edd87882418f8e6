// Application-restricted access as NHS England's API platform grants it: an application signs a
// JWT (RS512, with a kid) with its private key and exchanges it at /oauth2/token for a short-lived
// access token (RFC 7523 client credentials). Also the per-application rate limit.
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';

export type AccessMode = 'application-restricted' | 'healthcare-worker';

export interface RegisteredApplication {
  /** The API key: the `iss` and `sub` of its client assertions. */
  apiKey: string;
  name: string;
  jwks: JSONWebKeySet;
  accessMode: AccessMode;
}

export interface AccessToken {
  application: RegisteredApplication;
  expiresAt: number;
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  body() {
    return { error: this.error, error_description: this.description, message_id: randomBytes(8).toString('hex') };
  }
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_LIFETIME_S = 599;
const MAX_ASSERTION_LIFETIME_S = 300;

export class TokenService {
  private readonly applications = new Map<string, { application: RegisteredApplication; keys: ReturnType<typeof createLocalJWKSet> }>();
  private readonly tokens = new Map<string, AccessToken>();
  /** Assertion ids seen, with when they expire: a jti may be used once. */
  private readonly usedJtis = new Map<string, number>();

  constructor(
    applications: RegisteredApplication[],
    private readonly tokenUrl: string,
    private readonly now: () => number = Date.now,
  ) {
    for (const application of applications) this.applications.set(application.apiKey, { application, keys: createLocalJWKSet(application.jwks) });
  }

  async issue(form: URLSearchParams): Promise<{ access_token: string; expires_in: string; token_type: 'Bearer'; issued_token_type: string }> {
    const bad = (description: string) => new OAuthError(400, 'invalid_request', description);
    if (form.get('grant_type') !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', "grant_type is missing or not 'client_credentials'");
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw bad(`Missing or invalid client_assertion_type - must be '${ASSERTION_TYPE}'`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw bad('Missing client_assertion');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw bad('Malformed JWT in client_assertion');
    }
    if (header.alg !== 'RS512') throw bad("Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'");
    if (!header.kid) throw bad("Missing 'kid' header in client_assertion JWT");
    if (!claims.iss || !claims.sub || claims.iss !== claims.sub) throw bad("Missing or non-matching 'iss'/'sub' claims in client_assertion JWT");
    const registered = this.applications.get(claims.iss);
    if (!registered) throw new OAuthError(401, 'invalid_request', "Invalid 'iss'/'sub' claims in client_assertion JWT - no such application");
    if (!claims.jti) throw bad("Missing 'jti' claim in client_assertion JWT");
    if (claims.aud !== this.tokenUrl && !(Array.isArray(claims.aud) && claims.aud.length === 1 && claims.aud[0] === this.tokenUrl)) {
      throw new OAuthError(401, 'invalid_request', "Missing or invalid 'aud' claim in client_assertion JWT");
    }
    const nowS = Math.floor(this.now() / 1000);
    if (typeof claims.exp !== 'number') throw bad("Missing 'exp' claim in client_assertion JWT");
    if (claims.exp <= nowS) throw bad("Invalid 'exp' claim in client_assertion JWT - JWT has expired");
    if (claims.exp > nowS + MAX_ASSERTION_LIFETIME_S) throw bad("Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future");
    try {
      await jwtVerify(assertion, registered.keys, { algorithms: ['RS512'], currentDate: new Date(this.now()) });
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw new OAuthError(401, 'invalid_request', "Invalid 'kid' header in client_assertion JWT - no matching public key");
      throw new OAuthError(401, 'invalid_request', 'Unable to verify JWT signature');
    }
    this.forgetExpiredJtis(nowS);
    const jtiKey = `${claims.iss}:${claims.jti}`;
    if (this.usedJtis.has(jtiKey)) throw bad("Non-unique 'jti' claim in client_assertion JWT");
    this.usedJtis.set(jtiKey, claims.exp);

    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { application: registered.application, expiresAt: this.now() + TOKEN_LIFETIME_S * 1000 });
    return {
      access_token: token,
      expires_in: String(TOKEN_LIFETIME_S),
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    };
  }

  /** The access token's grant, or undefined when it is unknown or has expired. */
  verify(authorization: string | undefined): AccessToken | undefined {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    const grant = this.tokens.get(token);
    if (!grant) return undefined;
    if (grant.expiresAt <= this.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return grant;
  }

  private forgetExpiredJtis(nowS: number): void {
    if (this.usedJtis.size < 1000) return;
    for (const [jti, exp] of this.usedJtis) if (exp < nowS) this.usedJtis.delete(jti);
  }
}
