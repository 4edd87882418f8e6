// The LA's sharing endpoint (`/share/graphql`): what this LA lets another organisation receive about a
// child through DfE's relay, and nothing more. It answers only DfE relay tokens (signed by DfE, for this
// LA, naming the requesting organisation and its purpose, living a minute at most), checks the LA's own
// data sharing agreement again (CONTENT mode) whatever DfE decided, and runs one fixed operation through
// the router, so the answer is minimised and audited in the LA's audit log like any other read, with
// the requesting organisation as the reader.
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildSchema, graphql, GraphQLError } from 'graphql';
import { jwtVerify, type JSONWebKeySet } from 'jose';
import { keySet } from '../lib/dfe-token.ts';
import { DsaPolicy, type OrganisationType } from '../lib/dsa/policy.ts';
import { readJsonBody, sendError, sendJson } from '../lib/graphql/http.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../lib/nhs-number.ts';
import { RELAY_TOKEN_SECONDS, RELAY_TOKEN_TYPE, relayAudience, relayChildDigest } from '../schema/relay-token.ts';

export const SHARE_PATH = '/share/graphql';
const MAX_BODY_BYTES = 16 * 1024;

export const SHARE_SDL = `
"An NHS number: 10 digits whose last is the modulus 11 check digit."
scalar NhsNumber

type Query {
  "This LA's social care summary of the child, as far as its data sharing agreement lets the requesting organisation receive it."
  sharedSummary(nhsNumber: NhsNumber!): SharedSummary
}

"The summary an LA shares: whether the child is known to its social care, and who to contact."
type SharedSummary {
  custodian: String!
  openCase: Boolean!
  childProtectionPlan: Boolean!
  "Latest category of abuse of a current child protection plan (NEG, PHY, EMO, SAB, MUL), where the agreement shares plans."
  cpCategory: String
  lookedAfter: Boolean!
  "The team of the child's allocated social worker, to contact."
  allocatedTeam: String
  "When the LA answered (ISO 8601)."
  asOf: String!
}
`;

/** The one operation the endpoint runs through the router for a request. */
export const SHARE_OPERATION = `query Share($n: NhsNumber!, $purpose: Purpose!) {
  child(nhsNumber: $n, purpose: $purpose) {
    socialCare {
      status { openCase childProtectionPlan lookedAfter }
      cpPlans { endDate latestCategory }
      involvements { role team to }
    }
  }
}`;

export interface Requester {
  organisation: string;
  type: OrganisationType;
  purpose: string;
}

interface ShareData {
  child: {
    socialCare: {
      status: { openCase: boolean; childProtectionPlan: boolean; lookedAfter: boolean };
      cpPlans: { endDate: string | null; latestCategory: string | null }[] | null;
      involvements: { role: string | null; team: string | null; to: string | null }[] | null;
    } | null;
  } | null;
}

export interface ShareOptions {
  la: string;
  /** DfE, who signs relay tokens: its issuer and public keys (a key set, or the gateway's JWKS URL). */
  relay: { issuer: string; jwks: JSONWebKeySet | URL };
  /** This LA's own data sharing agreement, as it stands now. */
  agreement: () => DsaPolicy;
  /** Runs SHARE_OPERATION through the router for the requester (minimised, audited). */
  run(nhsNumber: string, requester: Requester): Promise<{ data?: ShareData | null; errors?: readonly { message: string }[] }>;
  /** Records a request the agreement refused (a shared one is audited by the router as it runs). */
  refused(nhsNumber: string, requester: Requester, rule: string): Promise<void>;
  /**
   * Records a relay token's `jti` until it expires; false when it was seen before. Shared by the router's
   * replicas through the LA's store; in memory by default (one process).
   */
  firstUse?: (jti: string, expiresAt: number) => Promise<boolean>;
  now?: () => number;
}

/** Relay tokens seen by this process, until they expire. */
export function memoryFirstUse(now: () => number = Date.now): (jti: string, expiresAt: number) => Promise<boolean> {
  const seen = new Map<string, number>();
  return async (jti, expiresAt) => {
    for (const [id, until] of seen) if (until < now()) seen.delete(id);
    if (seen.has(jti)) return false;
    seen.set(jti, expiresAt);
    return true;
  };
}

/** The LA's agreement from its file, compiled again whenever the file changes. */
export function agreementFile(path: string): () => DsaPolicy {
  let loaded: { mtimeMs: number; policy: DsaPolicy } | null = null;
  return () => {
    const { mtimeMs } = statSync(path);
    if (!loaded || loaded.mtimeMs !== mtimeMs) loaded = { mtimeMs, policy: DsaPolicy.compile(JSON.parse(readFileSync(path, 'utf8'))) };
    return loaded.policy;
  };
}

/** One relay request as either transport carries it: the relay token's Authorization header and the GraphQL body. */
export interface ShareRequest {
  authorization: string | undefined;
  body: unknown;
}

export interface ShareAnswer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions: { code: string } }[] };
}

const refusal = (status: number, code: string, message: string): ShareAnswer => ({ status, body: { errors: [{ message, extensions: { code } }] } });

/** Answers relay requests, whichever way they arrive (HTTP in push mode, the relay connection in pull mode). */
export function createShareResponder(options: ShareOptions): (request: ShareRequest) => Promise<ShareAnswer> {
  const keys = keySet(options.relay.jwks);
  const schema = buildSchema(SHARE_SDL);
  const now = options.now ?? Date.now;
  const firstUse = options.firstUse ?? memoryFirstUse(now);

  async function summary(nhsNumber: string, requester: Requester) {
    const decide = (recordType: string) => options.agreement().decide({ destination: requester.organisation, destinationType: requester.type, recordType, mode: 'CONTENT', purpose: requester.purpose, at: now() });
    const status = decide('csc.status');
    if (!status.allow) {
      await options.refused(nhsNumber, requester, status.rule);
      throw new GraphQLError(`${options.la}'s data sharing agreement does not share social care status with ${requester.organisation} for ${requester.purpose}`, { extensions: { code: 'FORBIDDEN' } });
    }
    const result = await options.run(nhsNumber, requester);
    if (!result.data) throw new GraphQLError('the summary could not be read', { extensions: { code: 'SOURCE_UNAVAILABLE', source: options.la } });
    const socialCare = result.data.child?.socialCare;
    if (!socialCare) return null;
    const today = new Date(now()).toISOString().slice(0, 10);
    const current = <T extends { to?: string | null; endDate?: string | null }>(rows: T[] | null) => (rows ?? []).filter((r) => !(r.to ?? r.endDate) || (r.to ?? r.endDate)! >= today);
    return {
      custodian: options.la,
      openCase: socialCare.status.openCase,
      childProtectionPlan: socialCare.status.childProtectionPlan,
      cpCategory: decide('csc.cp_plan').allow ? (current(socialCare.cpPlans)[0]?.latestCategory ?? null) : null,
      lookedAfter: socialCare.status.lookedAfter,
      allocatedTeam: current(socialCare.involvements).find((i) => i.role === 'Allocated Social Worker')?.team ?? null,
      asOf: new Date(now()).toISOString(),
    };
  }

  return async ({ authorization, body }) => {
    let requester: Requester;
    let child: string;
    try {
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new Error('no relay token');
      const { payload } = await jwtVerify(token, keys, { issuer: options.relay.issuer, audience: relayAudience(options.la), typ: RELAY_TOKEN_TYPE, algorithms: ['ES256'], clockTolerance: 5, requiredClaims: ['exp', 'iat', 'jti', 'requester', 'purpose', 'child'] });
      if (payload.exp! - payload.iat! > RELAY_TOKEN_SECONDS) throw new Error('the relay token lives too long');
      if (typeof payload.child !== 'string' || typeof payload.jti !== 'string' || payload.jti.length > 128) throw new Error('the relay token names no child');
      requester = { organisation: String(payload.requester), type: String(payload.requester_type ?? 'LA') as OrganisationType, purpose: String(payload.purpose) };
      child = payload.child;
      // One request per token: a token seen before (here, or at another replica) is refused.
      if (!(await firstUse(payload.jti, (payload.exp! + 5) * 1000))) return refusal(401, 'UNAUTHENTICATED', 'This relay token has been used: DfE signs one for each request');
    } catch {
      return refusal(401, 'UNAUTHENTICATED', 'The sharing endpoint answers DfE relay tokens only');
    }
    const request = body as { query?: unknown; variables?: unknown } | null;
    if (typeof request?.query !== 'string') return refusal(400, 'BAD_REQUEST', 'give a GraphQL query');
    let summaries = 0;
    const result = await graphql({
      schema,
      source: request.query,
      variableValues: (request.variables ?? {}) as Record<string, unknown>,
      rootValue: {
        sharedSummary: async ({ nhsNumber }: { nhsNumber: string }) => {
          // One summary per request, of the one child the token is for.
          if (++summaries > 1) throw new GraphQLError('A relay request asks for one summary', { extensions: { code: 'BAD_USER_INPUT' } });
          const normalised = normaliseNhsNumber(String(nhsNumber));
          if (!isValidNhsNumber(normalised)) throw new GraphQLError('not an NHS number', { extensions: { code: 'INVALID_NHS_NUMBER' } });
          if (relayChildDigest(normalised) !== child) throw new GraphQLError('This relay token is for another child', { extensions: { code: 'FORBIDDEN' } });
          return summary(normalised, requester);
        },
      },
    });
    // Errors with a stable code as they are; a malformed query as such; anything else masked.
    const errors = result.errors?.map((e) => {
      const code = e.extensions?.code as string | undefined;
      if (!code && e.originalError) return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      return { message: e.message, ...(e.path ? { path: e.path } : {}), extensions: { code: code ?? 'GRAPHQL_VALIDATION_FAILED' } };
    });
    return { status: 200, body: { ...(result.data !== undefined ? { data: result.data } : {}), ...(errors ? { errors } : {}) } };
  };
}

/** The sharing endpoint over HTTP (push mode): DfE's relay POSTs to /share/graphql. */
export function createShareHandler(respond: (request: ShareRequest) => Promise<ShareAnswer>): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'POST') return sendError(res, 405, 'BAD_REQUEST', 'POST a GraphQL request');
    const body = await readJsonBody(req, res, MAX_BODY_BYTES);
    if (body === undefined) return;
    const answer = await respond({ authorization: req.headers.authorization, body });
    sendJson(res, answer.status, answer.body);
  };
}
