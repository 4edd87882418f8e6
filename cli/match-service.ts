// The LA's side of MATCH: sends one person's demographics to DfE's matching subgraph over GraphQL.

export interface MatchDemographics {
  givenName: string;
  familyName: string;
  dateOfBirth: string;
  gender?: 'MALE' | 'FEMALE' | 'OTHER' | 'UNKNOWN';
  postcode?: string;
}

export interface MatchAnswer {
  status: 'MATCH' | 'POTENTIAL_MATCH' | 'LOW_CONFIDENCE' | 'MANY_MATCH' | 'NO_MATCH' | 'ERROR';
  /** For MATCH the child's NHS number; for POTENTIAL_MATCH and LOW_CONFIDENCE the candidate's, for a person to check. */
  nhsNumber: string | null;
  score: number;
  strategy: string | null;
  /** MATCH's reason for the band (a MatchReason code) and its sentence for a caseworker. */
  reason: string;
  explanation: string;
  /** The details that agreed with the candidate, and how; those that disagreed. */
  agreed: { field: string; level: string }[];
  disagreed: string[];
}

/** The service refused the input itself (BAD_USER_INPUT): record it, do not retry. */
export class RefusedInput extends Error {
  constructor(
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
    this.name = 'RefusedInput';
  }
}

const QUERY = `query Match($input: DemographicsInput!, $purpose: Purpose!) {
  matchChild(input: $input, purpose: $purpose) { status nhsNumber score strategy reason explanation agreed { field level } disagreed }
}`;

export class MatchService {
  constructor(
    private readonly url: string,
    private readonly purpose: string,
    /** The asking organisation's DfE access token for MATCH. */
    private readonly token: () => Promise<string>,
  ) {}

  async match(input: MatchDemographics): Promise<MatchAnswer> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.token()}` },
      body: JSON.stringify({ query: QUERY, variables: { input, purpose: this.purpose } }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      data?: { matchChild: MatchAnswer } | null;
      errors?: { message: string; extensions?: { code?: string; field?: string } }[];
    };
    const error = body.errors?.[0];
    if (error?.extensions?.code === 'BAD_USER_INPUT') throw new RefusedInput(error.message, error.extensions.field);
    if (!body.data?.matchChild) throw new Error(`MATCH answered ${response.status}: ${error?.message ?? 'no result'}`);
    return body.data.matchChild;
  }
}
