// The PDS sandbox's HTTP surface: the paths, headers, status codes and bodies of NHS England's
// Personal Demographics Service FHIR API (R4), over a local population.
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHttpServer } from '../../lib/http-server.ts';
import { isValidNhsNumber } from '../../lib/nhs-number.ts';
import { RateLimiter } from '../../lib/rate-limit.ts';
import { OAuthError, type AccessMode, type TokenService } from './auth.ts';
import { operationOutcome, PdsError, SPINE_ERRORS } from './operation-outcome.ts';
import type { IndexedPatient, PatientIndex } from './patient-index.ts';
import { parseSearch, searchPatients } from './search.ts';

export const FHIR_BASE = '/personal-demographics/FHIR/R4';
/** The sandbox's own control of simulated storms (not part of PDS's API): PUT {status, seconds}, DELETE, GET. */
export const SANDBOX_FAULT_PATH = '/_sandbox/fault';
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LOCATION_FIELDS = ['address', 'telecom', 'contact', 'generalPractitioner'];

export interface PdsServerOptions {
  index: PatientIndex;
  /** Verifies access tokens; without it the API is open, as NHS England's own sandbox is. */
  tokens?: TokenService;
  /** Requests per second per application. */
  rateLimit: number;
  /** The base URL clients see, for `fullUrl` in search results. */
  publicUrl: string;
  /** Access mode when the API is open. */
  openAccessMode?: AccessMode;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: PdsError, headers: Record<string, string> = {}): void {
  send(res, error.status, operationOutcome(error.spineCode, error.diagnostics), headers);
}

function withoutLocation(resource: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...resource };
  for (const field of LOCATION_FIELDS) delete copy[field];
  return copy;
}

type Name = { use?: string };
type Address = { use?: string };

/** What a search returns of a patient: usual, nickname and temporary names, and the home address. */
function searchView(patient: IndexedPatient, resource: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...resource };
  view.name = ((resource.name as Name[] | undefined) ?? []).filter((n) => ['usual', 'nickname', 'temp', undefined].includes(n.use));
  if (resource.address) view.address = (resource.address as Address[]).filter((a) => (a.use ?? 'home') === 'home');
  delete view.extension;
  return patient.restricted ? withoutLocation(view) : view;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new OAuthError(413, 'invalid_request', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createPdsHandler(options: PdsServerOptions) {
  // PDS's limit is per second, for each application.
  const limiter = new RateLimiter(options.rateLimit, 1);

  const tokenEndpoint = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (!options.tokens) throw new OAuthError(404, 'invalid_request', 'This PDS sandbox runs without authentication');
      if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST');
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded')) throw new OAuthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
      const issued = await options.tokens.issue(new URLSearchParams(await readBody(req)));
      const text = JSON.stringify(issued);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (error) {
      const oauth = error instanceof OAuthError ? error : new OAuthError(500, 'server_error', 'Unexpected error');
      const text = JSON.stringify(oauth.body());
      res.writeHead(oauth.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  };

  const fhir = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const echo: Record<string, string> = {};
    const requestId = req.headers['x-request-id'];
    const correlationId = req.headers['x-correlation-id'];
    if (typeof requestId === 'string') echo['x-request-id'] = requestId;
    if (typeof correlationId === 'string') echo['x-correlation-id'] = correlationId;
    try {
      if (typeof requestId !== 'string' || requestId === '') {
        throw new PdsError('MISSING_VALUE', 'Invalid request with error - X-Request-ID header must be supplied to access this resource');
      }
      if (!UUID.test(requestId)) throw new PdsError('INVALID_VALUE', `Invalid value - '${requestId}' in header 'X-Request-ID'`);
      let accessMode: AccessMode = options.openAccessMode ?? 'healthcare-worker';
      let client = `address:${req.socket.remoteAddress ?? 'unknown'}`;
      if (options.tokens) {
        const grant = options.tokens.verify(req.headers.authorization);
        if (!grant) {
          throw new PdsError('ACCESS_DENIED', req.headers.authorization ? 'Invalid access token' : 'Missing Authorization header');
        }
        accessMode = grant.application.accessMode;
        client = `application:${grant.application.apiKey}`;
      }
      const wait = limiter.take(client);
      if (wait > 0) {
        sendError(res, new PdsError('TOO_MANY_REQUESTS', 'You have exceeded your application\'s rate limit'), { ...echo, 'retry-after': String(wait) });
        return;
      }
      if (req.method !== 'GET') throw new PdsError('INVALID_METHOD', `Method ${req.method} is not supported on this resource`);
      const path = url.pathname.slice(FHIR_BASE.length);
      if (path === '/Patient') return search(res, url, accessMode, echo);
      const id = /^\/Patient\/([^/]+)$/.exec(path)?.[1];
      if (id !== undefined) return read(res, decodeURIComponent(id), echo);
      if (path === '/Patient/') throw new PdsError('UNSUPPORTED_SERVICE');
      throw new PdsError('RESOURCE_NOT_FOUND', `No resource at ${url.pathname}`);
    } catch (error) {
      if (error instanceof PdsError) sendError(res, error, echo);
      else send(res, 500, operationOutcome('INVALID_VALUE', 'Internal error'), echo);
    }
  };

  const search = (res: ServerResponse, url: URL, accessMode: AccessMode, echo: Record<string, string>) => {
    const query = parseSearch(url.searchParams);
    if (accessMode === 'application-restricted' && query.maxResults !== undefined && query.maxResults !== 1) {
      throw new PdsError('INVALID_VALUE', 'Invalid value - multiple results requested when using the API in application-restricted mode', 403);
    }
    const max = accessMode === 'application-restricted' ? 1 : (query.maxResults ?? 50);
    const matches = searchPatients(options.index, query);
    if (matches.length > max) {
      send(res, SPINE_ERRORS.TOO_MANY_MATCHES.status, operationOutcome('TOO_MANY_MATCHES'), echo);
      return;
    }
    send(
      res,
      200,
      {
        resourceType: 'Bundle',
        type: 'searchset',
        timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
        total: matches.length,
        entry: matches.map(({ patient, score }) => ({
          fullUrl: `${options.publicUrl}${FHIR_BASE}/Patient/${patient.id}`,
          search: { score },
          resource: searchView(patient, options.index.resource(patient)),
        })),
      },
      echo,
    );
  };

  const read = (res: ServerResponse, id: string, echo: Record<string, string>) => {
    if (!/^\d{10}$/.test(id) || !isValidNhsNumber(id)) throw new PdsError('INVALID_RESOURCE_ID', `Invalid resource ID - NHS number '${id}' is not valid`);
    let patient = options.index.get(id);
    if (!patient) throw new PdsError('RESOURCE_NOT_FOUND');
    // A superseded number returns the record that supersedes it (its id differs from the one asked for).
    for (let hops = 0; !patient.active && patient.replacedBy && hops < 5; hops++) {
      const next = options.index.get(patient.replacedBy);
      if (!next) break;
      patient = next;
    }
    if (!patient.active) throw new PdsError('INVALIDATED_RESOURCE');
    const resource = options.index.resource(patient);
    send(res, 200, patient.restricted ? withoutLocation(resource) : resource, { ...echo, etag: `W/"${patient.versionId}"` });
  };

  // A storm, for resilience tests and `bench:resilience`: until `until`, every FHIR request is answered
  // with `status` (429 throttled, 500 server error or 503 service unavailable, with Retry-After).
  const STORMS = { 429: 'TOO_MANY_REQUESTS', 500: 'SERVER_ERROR', 503: 'SERVICE_UNAVAILABLE' } as const;
  let storm: { status: keyof typeof STORMS; until: number } | null = null;

  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://pds.local');
    if (url.pathname === SANDBOX_FAULT_PATH) {
      if (req.method === 'DELETE') storm = null;
      else if (req.method === 'PUT') {
        let body: { status?: number; seconds?: number };
        try {
          body = JSON.parse((await readBody(req)) || '{}') as { status?: number; seconds?: number };
        } catch {
          return send(res, 400, operationOutcome('INVALID_VALUE', 'the body is not JSON'));
        }
        if (!Object.hasOwn(STORMS, String(body.status)) || !(Number(body.seconds) > 0 && Number(body.seconds) <= 600)) {
          return send(res, 400, operationOutcome('INVALID_VALUE', 'give {"status": 429, 500 or 503, "seconds": 1 to 600}'));
        }
        storm = { status: body.status as keyof typeof STORMS, until: Date.now() + Number(body.seconds) * 1000 };
      }
      return send(res, 200, { storm: storm && storm.until > Date.now() ? { status: storm.status, seconds: Math.ceil((storm.until - Date.now()) / 1000) } : null });
    }
    if (storm && storm.until > Date.now() && url.pathname.startsWith(`${FHIR_BASE}/`)) {
      return sendError(res, new PdsError(STORMS[storm.status]), { 'retry-after': '1' });
    }
    if (url.pathname === '/health') {
      send(res, 200, { status: 'pass', patients: options.index.size });
    } else if (url.pathname === '/oauth2/token') {
      await tokenEndpoint(req, res);
    } else if (url.pathname.startsWith(`${FHIR_BASE}/`)) {
      fhir(req, res, url);
    } else {
      send(res, 404, operationOutcome('RESOURCE_NOT_FOUND', `No resource at ${url.pathname}`));
    }
  };
}

export function createPdsServer(options: PdsServerOptions): Server {
  const handler = createPdsHandler(options);
  return createHttpServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, operationOutcome('INVALID_VALUE', 'Internal error'));
      else res.destroy();
    });
  });
}
