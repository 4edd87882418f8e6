import type { useReceiptSigner } from '../../lib/match-receipt.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import type { CallOptions, PdsClient } from './pds/client.ts';
import type { Matcher } from './matcher.ts';

/** One entry of DfE's central audit about a child MATCH answered on. */
export interface MatchAuditEntry {
  action: 'match.search' | 'match.demographics' | 'match.restriction';
  /** The child's NHS number (pseudonymised before it is written), or null when the search found nobody. */
  nhsNumber: string | null;
  decision: string;
  detail: Record<string, unknown>;
  /** The purpose stated for this answer (matchChild's argument); the MAIS-Purpose header's otherwise. */
  purpose?: string;
}

/** What each request's resolvers can use. */
export interface Context {
  pds: PdsClient;
  matcher: Matcher;
  /** The calling organisation, from its verified DfE access token. */
  caller: Organisation;
  /** The purpose the caller declared in the MAIS-Purpose header, if any. */
  purpose: string | null;
  /** Writes to DfE's central audit, under the child's pseudonym; throws SOURCE_UNAVAILABLE when it cannot. */
  audit(entries: MatchAuditEntry[]): Promise<void>;
  /** Signs a receipt for each linkable result. */
  receipts: ReturnType<typeof useReceiptSigner>;
  /** How this request's PDS calls are made: whose share of the allowance they spend (the organisation and
   * the caller its router named in MAIS-Caller), and the X-Correlation-ID carried to PDS. */
  pdsCall: CallOptions;
}
