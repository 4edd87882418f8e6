// One client for NHS England's Personal Demographics Service FHIR API, used everywhere PDS is called.
// Given a base URL, API key, key id and private key it works unchanged against NHS England's
// integration environment and against the PDS sandbox: signed-JWT token flow with caching, request
// and correlation ids, a client-side rate limit, retries with backoff and jitter on 429, 5xx and
// timeouts (never on input errors), and a deadline per call.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { PdsAuthenticationError, PdsRequestError, PdsUnavailableError } from './errors.ts';
import { patientFromFhir, type FhirPatient, type Patient } from './patient.ts';
import { FairShare, QuotaExceeded, type Share } from './fair-share.ts';
import { nodeTransport, type Transport, type TransportResponse } from './transport.ts';

export interface PdsCredentials {
  /** The application's API key: `iss` and `sub` of its client assertions. */
  apiKey: string;
  /** The `kid` of the public key registered for the application. */
  keyId: string;
  /** The private key, as a JWK or a key object (RS512). */
  privateKey: JWK | CryptoKey | KeyObject;
}

export interface PdsClientOptions {
  /** e.g. `https://int.api.service.nhs.uk/personal-demographics/FHIR/R4`. */
  baseUrl: string;
  /** Defaults to `<origin>/oauth2/token`. */
  tokenUrl?: string;
  /** Without credentials, no token is sent (NHS England's open sandbox). */
  credentials?: PdsCredentials;
  /** Requests a second this client sends at most (PDS's default limit is 5), shared fairly between organisations and their callers. */
  rateLimit?: number;
  /** Calls one caller may have waiting for the allowance at once; more are refused with QuotaExceeded (default 3). */
  perCallerWaiting?: number;
  /** Longest an organisation's call may expect to wait for the allowance at its share; longer is refused with QuotaExceeded (default 5 s). */
  maxShareWaitMs?: number;
  /** Retries after the first attempt, for 429, 5xx and timeouts. */
  maxRetries?: number;
  /** Longest wait for one attempt. */
  attemptTimeoutMs?: number;
  /** Longest a whole call (with its retries and waits) may take. */
  deadlineMs?: number;
  /** First backoff; doubles each retry, with full jitter. */
  backoffMs?: number;
  /** How HTTP requests are sent: node:http with kept-alive connections by default; `fetch` also fits. */
  fetch?: Transport | typeof fetch;
  random?: () => number;
}

export interface PatientSearch {
  family?: string;
  given?: string[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  /** `eqyyyy-mm-dd`, or one or two of `geyyyy-mm-dd` / `leyyyy-mm-dd`. */
  birthdate?: string[];
  postcode?: string;
  generalPractitioner?: string;
  fuzzy?: boolean;
  exactMatch?: boolean;
  history?: boolean;
  maxResults?: number;
}

export interface SearchMatch {
  score: number;
  patient: Patient;
}

export type SearchResult = { kind: 'matches'; matches: SearchMatch[] } | { kind: 'too-many-matches' };

export interface CallOptions {
  correlationId?: string;
  /** Whose share of the PDS allowance the call spends; calls without one share a queue of their own. */
  share?: Share;
  /** A later call of work already admitted (a match's next search): queued at its share, never refused for its bounds. */
  continuing?: boolean;
  /** When (Date.now() ms) whoever asked stops waiting: a call that could not be sent by then is refused (QuotaExceeded). */
  answerBy?: number;
  signal?: AbortSignal;
}

/** The share of calls made for no organisation in particular (tools, health checks). */
const UNSHARED: Share = { organisation: '' };
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_REFRESH_MARGIN_MS = 30_000;

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class PdsClient {
  private readonly baseUrl: string;
  private readonly tokenUrl: string;
  private readonly limiter: FairShare;
  private readonly fetch: Transport;
  private readonly random: () => number;
  private token: CachedToken | undefined;
  private pendingToken: Promise<CachedToken> | undefined;
  private signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  /** Calls sent to PDS (attempts, retries included; also by the organisation they were made for, '' for none) and tokens fetched: for benchmarks and operators. */
  readonly stats = { requests: 0, retries: 0, tokens: 0, requestsByOrganisation: new Map<string, number>() };

  constructor(private readonly options: PdsClientOptions) {
    const base = new URL(options.baseUrl);
    if (!['http:', 'https:'].includes(base.protocol)) throw new RangeError(`PDS base URL must be http(s): ${options.baseUrl}`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokenUrl = options.tokenUrl ?? `${base.origin}/oauth2/token`;
    this.limiter = new FairShare({
      perSecond: options.rateLimit ?? 5,
      ...(options.perCallerWaiting !== undefined ? { perCallerWaiting: options.perCallerWaiting } : {}),
      ...(options.maxShareWaitMs !== undefined ? { maxWaitMs: options.maxShareWaitMs } : {}),
    });
    this.fetch = (options.fetch as Transport | undefined) ?? nodeTransport;
    this.random = options.random ?? Math.random;
  }

  /** Calls waiting for their share of the allowance, by organisation. */
  get waiting(): Record<string, number> {
    return this.limiter.waiting;
  }

  async searchPatients(search: PatientSearch, call: CallOptions = {}): Promise<SearchResult> {
    const params = new URLSearchParams();
    if (search.family !== undefined) params.set('family', search.family);
    for (const given of search.given ?? []) params.append('given', given);
    if (search.gender) params.set('gender', search.gender);
    for (const date of search.birthdate ?? []) params.append('birthdate', date);
    if (search.postcode) params.set('address-postalcode', search.postcode);
    if (search.generalPractitioner) params.set('general-practitioner', search.generalPractitioner);
    if (search.fuzzy) params.set('_fuzzy-match', 'true');
    if (search.exactMatch) params.set('_exact-match', 'true');
    if (search.history) params.set('_history', 'true');
    if (search.maxResults !== undefined) params.set('_max-results', String(search.maxResults));
    const body = await this.request(`/Patient?${params}`, call);
    if (body === undefined) throw new PdsUnavailableError('PDS returned no search result', 1);
    if (body.resourceType === 'OperationOutcome') {
      const code = (body as OperationOutcome).issue?.[0]?.details?.coding?.[0]?.code;
      if (code === 'TOO_MANY_MATCHES') return { kind: 'too-many-matches' };
      throw new PdsRequestError(200, code ?? 'UNKNOWN', (body as OperationOutcome).issue?.[0]?.diagnostics, '');
    }
    const entries = (body.entry ?? []) as { search?: { score?: number }; resource: FhirPatient }[];
    return { kind: 'matches', matches: entries.map((entry) => ({ score: entry.search?.score ?? 0, patient: patientFromFhir(entry.resource) })) };
  }

  /** The patient's record, or undefined if PDS has none for that number. A superseded number returns its successor. */
  async getPatient(nhsNumber: string, call: CallOptions = {}): Promise<Patient | undefined> {
    const body = await this.request(`/Patient/${encodeURIComponent(nhsNumber)}`, call, { notFoundIsEmpty: true });
    return body === undefined ? undefined : patientFromFhir(body as unknown as FhirPatient);
  }

  private async request(path: string, call: CallOptions, behaviour: { notFoundIsEmpty?: boolean } = {}): Promise<Record<string, unknown> | undefined> {
    const deadline = abortAfter(this.options.deadlineMs ?? 10_000, call.signal);
    const signal = deadline.signal;
    try {
      return await this.attempts(path, call, behaviour, signal);
    } finally {
      deadline.clear();
    }
  }

  private async attempts(path: string, call: CallOptions, behaviour: { notFoundIsEmpty?: boolean }, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const requestId = randomUUID();
    const maxRetries = this.options.maxRetries ?? 3;
    let lastProblem = 'no attempt made';
    let refreshedToken = false;
    let admitted = false;
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        // A call past its share is refused at once (QuotaExceeded); once admitted, its retries queue without
        // bounds, as do calls made for no organisation (tools that pace themselves).
        await this.limiter.take(call.share ?? UNSHARED, signal, { unbounded: admitted || !call.share || call.continuing === true, ...(call.answerBy !== undefined ? { maxWaitMs: call.answerBy - Date.now() } : {}) });
        admitted = true;
        const headers: Record<string, string> = { accept: 'application/fhir+json', 'x-request-id': requestId };
        if (call.correlationId) headers['x-correlation-id'] = call.correlationId;
        if (this.options.credentials) headers.authorization = `Bearer ${(await this.accessToken(signal)).value}`;
        this.stats.requests++;
        const organisation = call.share?.organisation ?? '';
        this.stats.requestsByOrganisation.set(organisation, (this.stats.requestsByOrganisation.get(organisation) ?? 0) + 1);
        const attemptDeadline = abortAfter(this.options.attemptTimeoutMs ?? 3000, signal);
        let response: TransportResponse;
        let body: OperationOutcome | undefined;
        try {
          response = await this.fetch(`${this.baseUrl}${path}`, { headers, signal: attemptDeadline.signal });
          if (response.ok) return (await response.json()) as Record<string, unknown>;
          body = (await response.json().catch(() => undefined)) as OperationOutcome | undefined;
        } finally {
          attemptDeadline.clear();
        }
        const code = body?.issue?.[0]?.details?.coding?.[0]?.code ?? `HTTP_${response.status}`;
        if (response.status === 401 && this.options.credentials && !refreshedToken) {
          // The token may have been revoked or expired early: fetch a new one once.
          this.token = undefined;
          refreshedToken = true;
          attempt--;
          continue;
        }
        if (response.status === 404 && behaviour.notFoundIsEmpty && code === 'RESOURCE_NOT_FOUND') return undefined;
        if (response.status !== 429 && response.status < 500) {
          throw new PdsRequestError(response.status, code, body?.issue?.[0]?.diagnostics, requestId);
        }
        lastProblem = `${response.status} ${code}`;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch (error) {
        if (error instanceof PdsRequestError || error instanceof PdsAuthenticationError || error instanceof QuotaExceeded) throw error;
        if (signal.aborted) {
          throw new PdsUnavailableError(`PDS call did not finish within its deadline (${lastProblem})`, attempt + 1, { cause: error });
        }
        lastProblem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (attempt >= maxRetries) throw new PdsUnavailableError(`PDS unavailable after ${attempt + 1} attempts: ${lastProblem}`, attempt + 1);
      this.stats.retries++;
      const backoff = (this.options.backoffMs ?? 200) * 2 ** attempt;
      await sleep(Math.max(retryAfterMs ?? 0, this.random() * backoff), signal).catch((error: unknown) => {
        throw new PdsUnavailableError(`PDS call did not finish within its deadline (${lastProblem})`, attempt + 1, { cause: error });
      });
    }
  }

  /** The access token this client sends (fetched or cached), for tools that call PDS's API themselves. */
  async bearerToken(): Promise<string> {
    return (await this.accessToken(AbortSignal.timeout(10_000))).value;
  }

  private async accessToken(signal: AbortSignal): Promise<CachedToken> {
    if (this.token && this.token.expiresAt - TOKEN_REFRESH_MARGIN_MS > Date.now()) return this.token;
    this.pendingToken ??= this.fetchToken(signal).finally(() => {
      this.pendingToken = undefined;
    });
    this.token = await this.pendingToken;
    return this.token;
  }

  private async fetchToken(signal: AbortSignal): Promise<CachedToken> {
    const credentials = this.options.credentials!;
    this.signingKey ??= isJwk(credentials.privateKey) ? importJWK(credentials.privateKey, 'RS512') : Promise.resolve(credentials.privateKey);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', typ: 'JWT', kid: credentials.keyId })
      .setIssuer(credentials.apiKey)
      .setSubject(credentials.apiKey)
      .setAudience(this.tokenUrl)
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
      .sign(await this.signingKey);
    this.stats.tokens++;
    const response = await this.fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }),
      signal,
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: string | number; error?: string; error_description?: string };
    if (response.status >= 500) throw new Error(`token endpoint answered ${response.status}`);
    if (!response.ok || !body.access_token) {
      throw new PdsAuthenticationError(response.status, body.error ?? 'unknown_error', body.error_description ?? 'no description');
    }
    return { value: body.access_token, expiresAt: Date.now() + Number(body.expires_in ?? 0) * 1000 };
  }
}

interface OperationOutcome {
  resourceType?: string;
  issue?: { diagnostics?: string; details?: { coding?: { code?: string }[] } }[];
}

function isJwk(key: PdsCredentials['privateKey']): key is JWK {
  return typeof key === 'object' && key !== null && 'kty' in key;
}

/** An abort signal that fires after `ms`, or when `parent` does; `clear` releases its timer. */
function abortAfter(ms: number, parent?: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
