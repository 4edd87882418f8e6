// DfE's relay: for a child and an asking LA, which other LAs' social care records it may receive (FIND's
// pointers, each custodian's agreement in CONTENT mode for the asker and purpose), and each custodian's
// summary fetched from its sharing endpoint with a relay token DfE signs for that one request. Every
// request is audited at DfE (asker, pseudonym, purpose, custodian, decision, size, outcome) before any
// answer is returned; the answers themselves pass through memory only.
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { AuditValue, AuditWriter } from '../../lib/audit/chain.ts';
import type { SqlConnection } from '../../lib/db/sql.ts';
import type { Decision } from '../../lib/dsa/policy.ts';
import { sourceUnavailable } from '../../lib/graphql/errors.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import type { CentralDirectory } from '../../gateway/directory.ts';
import { isRestricted, locationsOf } from '../locator/register.ts';
import { RELAY_TOKEN_SECONDS, RELAY_TOKEN_TYPE, relayAudience, relayChildDigest } from '../../schema/relay-token.ts';

/** The record type a custodian's agreement must let the asker receive for the summary. */
export const SHARED_RECORD_TYPE = 'csc.status';
/** The one query the relay sends a sharing endpoint. */
export const RELAY_QUERY = 'query Relay($n: NhsNumber!) { sharedSummary(nhsNumber: $n) { custodian openCase childProtectionPlan cpCategory lookedAfter allocatedTeam asOf } }';
/** Largest answer taken from a sharing endpoint: a summary is a few hundred bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface SocialCareSummary {
  openCase: boolean;
  childProtectionPlan: boolean;
  cpCategory: string | null;
  lookedAfter: boolean;
  allocatedTeam: string | null;
  asOf: string;
}

/** A custodian the asker may receive records from, for one child. */
export interface RelayTarget {
  custodian: string;
  custodianName: string;
  nhsNumber: string;
  asker: Organisation;
  purpose: string;
  pseudonym: Buffer;
  decision: Decision;
}

/** What a custodian's sharing endpoint answered, and how it was reached. */
export interface CustodianAnswer {
  status: number;
  body: string;
  transport: 'push' | 'pull';
}

/** Carries one relay request to a custodian: over its open pull connection, or to its registered URL. */
export type CustodianTransport = (custodian: Organisation, request: { authorization: string; body: string }, timeoutMs: number) => Promise<CustodianAnswer>;

/** The custodian has no way to be reached: no pull connection open and no sharing URL registered. */
export class NoSharingEndpointError extends Error {
  override name = 'NoSharingEndpointError';
}

export interface RelayOptions {
  sql: SqlConnection;
  directory: CentralDirectory;
  audit: AuditWriter;
  /** DfE's issuer and private key: relay tokens are signed with the key that signs access tokens. */
  issuer: string;
  signingKey: JWK;
  transport: CustodianTransport;
  /** How long a custodian has to answer (ms). */
  timeoutMs: number;
  /** Told of each custodian request when it ends: never the answer, only how it went. */
  observe?: (event: { asker: string; custodian: string; transport: CustodianAnswer['transport'] | null; outcome: Outcome; bytes: number; ms: number }) => void;
  now?: () => number;
}

export type Outcome = 'OK' | 'NO_RECORD' | 'REFUSED' | 'UNAVAILABLE' | 'TIMEOUT' | 'NO_ENDPOINT';

const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isText = (v: unknown): v is string | null => v === null || (typeof v === 'string' && v.length <= 200);

/** The summary in a sharing endpoint's answer, field by field; anything else is not passed on. */
function readSummary(value: unknown, custodian: string): SocialCareSummary | null | undefined {
  if (value === null) return null;
  const s = value as Record<string, unknown> | undefined;
  if (!s || s.custodian !== custodian || !isBoolean(s.openCase) || !isBoolean(s.childProtectionPlan) || !isBoolean(s.lookedAfter)) return undefined;
  if (!isText(s.cpCategory) || !isText(s.allocatedTeam) || typeof s.asOf !== 'string' || Number.isNaN(Date.parse(s.asOf))) return undefined;
  return { openCase: s.openCase, childProtectionPlan: s.childProtectionPlan, cpCategory: s.cpCategory, lookedAfter: s.lookedAfter, allocatedTeam: s.allocatedTeam, asOf: s.asOf };
}

export class Relay {
  private readonly key: ReturnType<typeof importJWK>;
  private readonly now: () => number;

  constructor(private readonly options: RelayOptions) {
    this.key = importJWK(options.signingKey, 'ES256');
    this.now = options.now ?? Date.now;
  }

  /**
   * The LAs other than the asker that hold social care records of the child and whose agreements let
   * the asker receive them for the purpose. Custodians whose agreements refuse are audited as refused
   * and not listed; a lookup that finds none is audited too.
   */
  async targets(asker: Organisation, purpose: string, nhsNumber: string): Promise<RelayTarget[]> {
    const { directory } = this.options;
    directory.assertFresh();
    const { lookup, audit: pseudonym } = directory.pseudonymsForLookup(nhsNumber);
    const [locations] = await this.options.sql.withSession((db) => locationsOf(db, [lookup]));
    const at = this.now();
    // A restricted child: no custodian is asked, and no team, worker or location carried, unless its agreement has a rule for restricted children.
    const restricted = isRestricted(locations!);
    // Each LA custodian of a social care record: known to the asker if any of its pointers may be known (EXISTENCE).
    const custodians = new Map<string, Decision>();
    for (const location of locations!) {
      const custodian = directory.organisations.get(location.custodianCode);
      if (location.retired || !location.recordType.startsWith('csc.') || location.custodianCode === asker.code || custodian?.type !== 'LA') continue;
      if (custodians.get(location.custodianCode)?.allow) continue;
      custodians.set(location.custodianCode, directory.decide(location.custodianCode, { destination: asker.code, destinationType: asker.type, recordType: location.recordType, mode: 'EXISTENCE', purpose, at, restricted }));
    }
    const targets: RelayTarget[] = [];
    const refused: Record<string, AuditValue>[] = [];
    for (const [code, existence] of custodians) {
      // The asker may receive only what it may know exists, and what the agreement shares in CONTENT mode.
      const decision = existence.allow ? directory.decide(code, { destination: asker.code, destinationType: asker.type, recordType: SHARED_RECORD_TYPE, mode: 'CONTENT', purpose, at, restricted }) : existence;
      if (decision.allow) targets.push({ custodian: code, custodianName: directory.organisations.get(code)!.name, nhsNumber, asker, purpose, pseudonym, decision });
      else refused.push(this.entry(asker, purpose, pseudonym, 'DENY', decision, { custodian: code, mode: existence.allow ? 'CONTENT' : 'EXISTENCE', outcome: 'REFUSED_BY_AGREEMENT' }));
    }
    if (custodians.size === 0) refused.push(this.entry(asker, purpose, pseudonym, 'NONE', null, { custodians: 0 }));
    await this.options.audit.append(refused);
    return targets;
  }

  /** Asks one custodian for its summary; audited (decision, size, outcome) before it is returned. */
  async fetch(target: RelayTarget): Promise<SocialCareSummary | null> {
    const started = this.now();
    let outcome: Outcome = 'UNAVAILABLE';
    let bytes = 0;
    let transport: CustodianAnswer['transport'] | null = null;
    let failure: GraphQLError | null = null;
    let summary: SocialCareSummary | null = null;
    try {
      const custodian = this.options.directory.organisations.get(target.custodian);
      if (!custodian || custodian.status !== 'ACTIVE') throw new NoSharingEndpointError(`${target.custodian} is not active at DfE`);
      const token = await this.relayToken(target);
      const answer = await this.options.transport(custodian, { authorization: `Bearer ${token}`, body: JSON.stringify({ query: RELAY_QUERY, variables: { n: target.nhsNumber } }) }, this.options.timeoutMs);
      transport = answer.transport;
      bytes = Buffer.byteLength(answer.body);
      const reply = answer.status === 200 && bytes <= MAX_ANSWER_BYTES ? (JSON.parse(answer.body) as { data?: { sharedSummary?: unknown }; errors?: { extensions?: { code?: string } }[] }) : null;
      const code = reply?.errors?.[0]?.extensions?.code;
      const read = reply && !reply.errors ? readSummary(reply.data?.sharedSummary, target.custodian) : undefined;
      if (code === 'FORBIDDEN') {
        outcome = 'REFUSED';
        failure = new GraphQLError(`${target.custodian}'s data sharing agreement does not share this record with ${target.asker.code} for ${target.purpose}`, { extensions: { code: 'FORBIDDEN', source: target.custodian } });
      } else if (read === undefined) {
        failure = sourceUnavailable(target.custodian, `${target.custodian}'s sharing endpoint did not give a summary`);
      } else {
        outcome = read ? 'OK' : 'NO_RECORD';
        summary = read;
      }
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || /timed? ?out/i.test(error.message));
      outcome = error instanceof NoSharingEndpointError ? 'NO_ENDPOINT' : timedOut ? 'TIMEOUT' : 'UNAVAILABLE';
      failure = sourceUnavailable(target.custodian, timedOut ? `${target.custodian} did not answer in time` : `${target.custodian}'s sharing endpoint is unavailable`);
    }
    const ms = this.now() - started;
    await this.options.audit.append([this.entry(target.asker, target.purpose, target.pseudonym, 'ALLOW', target.decision, { custodian: target.custodian, transport, outcome, bytes, ms })]);
    this.options.observe?.({ asker: target.asker.code, custodian: target.custodian, transport, outcome, bytes, ms });
    if (failure) throw failure;
    return summary;
  }

  private entry(asker: Organisation, purpose: string, pseudonym: Buffer, decision: 'ALLOW' | 'DENY' | 'NONE', rule: Decision | null, detail: Record<string, unknown>): Record<string, AuditValue> {
    return {
      at: new Date(this.now()),
      actor_org: asker.code,
      action: 'relay.fetch',
      pseudonym,
      purpose,
      decision,
      rule: rule?.rule ?? null,
      policy_version: rule?.version ?? null,
      detail: { keyVersion: this.options.directory.writeVersion, ...detail },
    };
  }

  private async relayToken(target: RelayTarget): Promise<string> {
    const now = Math.floor(this.now() / 1000);
    return new SignJWT({ requester: target.asker.code, requester_type: target.asker.type, purpose: target.purpose, child: relayChildDigest(target.nhsNumber) })
      .setProtectedHeader({ alg: 'ES256', typ: RELAY_TOKEN_TYPE, ...(this.options.signingKey.kid ? { kid: this.options.signingKey.kid } : {}) })
      .setIssuer(this.options.issuer)
      .setAudience(relayAudience(target.custodian))
      .setIssuedAt(now)
      .setExpirationTime(now + RELAY_TOKEN_SECONDS)
      .setJti(randomUUID())
      .sign(await this.key);
  }
}
