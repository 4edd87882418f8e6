// A custodian's client for FIND's register: GraphQL over HTTP with a DfE access token, got from DfE's
// token endpoint with the organisation's own key and reused while it lasts. Calls are chunked to
// FIND's 10,000-item limit.
import type { JWK } from 'jose';
import { DfeTokenError, useDfeTokenClient } from '../../lib/dfe-token.ts';
import { LOCATOR_AUDIENCE, MATCHING_AUDIENCE } from '../../schema/audiences.ts';
import type { RegistrationInput, RetirementInput } from '../../schema/register.ts';

export const CHUNK = 10_000;

export class LocatorError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'LocatorError';
  }
}

export interface RegisterReply {
  written: boolean;
  items: number;
  created: number;
  updated: number;
  notFound: number;
  errors: { index: number; code: string; field: string; message: string }[];
}

export interface LocatorClientOptions {
  url: string;
  /** DfE's token endpoint. */
  tokenUrl: string;
  organisation: string;
  privateKey: JWK;
  audience?: string;
  /** Milliseconds to wait for one call. */
  timeoutMs?: number;
}

const FIELDS = 'written items created updated notFound errors { index code field message }';

export class LocatorClient {
  private readonly tokens;

  constructor(private readonly options: LocatorClientOptions) {
    this.tokens = useDfeTokenClient({ tokenUrl: options.tokenUrl, organisation: options.organisation, privateKey: options.privateKey, resource: options.audience ?? LOCATOR_AUDIENCE });
  }

  protected async call<T>(query: string, variables: Record<string, unknown>, retried = false): Promise<T> {
    let token: string;
    try {
      token = await this.tokens.token();
    } catch (error) {
      if (error instanceof DfeTokenError) throw new LocatorError(error.message, error.status === undefined ? 'SOURCE_UNAVAILABLE' : 'UNAUTHENTICATED');
      throw error;
    }
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new LocatorError(`FIND at ${this.options.url} did not answer: ${error instanceof Error ? error.message : String(error)}`, 'SOURCE_UNAVAILABLE');
    }
    // A token refused before its time (DfE's keys rotated) is replaced once.
    if (response.status === 401 && !retried) {
      this.tokens.forget();
      return this.call(query, variables, true);
    }
    const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length || !body.data) {
      const error = body.errors?.[0];
      throw new LocatorError(`FIND refused the call (HTTP ${response.status}): ${error?.message ?? 'no data'}`, error?.extensions?.code);
    }
    return body.data;
  }

  async registerRecords(input: RegistrationInput[]): Promise<RegisterReply> {
    if (input.length > CHUNK) throw new RangeError(`at most ${CHUNK} items a call`);
    const data = await this.call<{ registerRecords: RegisterReply }>(`mutation ($input: [RecordRegistration!]!) { registerRecords(input: $input) { ${FIELDS} } }`, { input });
    return data.registerRecords;
  }

  async retireRecords(input: RetirementInput[]): Promise<RegisterReply> {
    if (input.length > CHUNK) throw new RangeError(`at most ${CHUNK} items a call`);
    const data = await this.call<{ retireRecords: RegisterReply }>(`mutation ($input: [RecordRetirement!]!) { retireRecords(input: $input) { ${FIELDS} } }`, { input });
    return data.retireRecords;
  }
}

/** NHS numbers one restrictions call carries (MATCH's limit). */
export const RESTRICTION_CHUNK = 100;

/** MATCH's answer to whether PDS restricts each child's record: for keeping what the LA tells FIND current. */
export class RestrictionClient extends LocatorClient {
  constructor(options: Omit<LocatorClientOptions, 'audience'>) {
    super({ ...options, audience: MATCHING_AUDIENCE });
  }

  /** Each NHS number's restriction; null where PDS holds no record. */
  async restrictions(nhsNumbers: readonly string[]): Promise<Map<string, boolean | null>> {
    const data = await this.call<{ restrictions: { nhsNumber: string; restricted: boolean | null }[] }>('query ($n: [NhsNumber!]!) { restrictions(nhsNumbers: $n) { nhsNumber restricted } }', { n: nhsNumbers });
    return new Map(data.restrictions.map((r) => [r.nhsNumber, r.restricted]));
  }
}
