import type { AccessDecision } from '../lib/internal-token.ts';

/** Who is asking, as the router verified them. */
export interface Caller {
  username: string;
  roles: string[];
  /** The application the caseworker signed in through (the access token's client_id), when it says. */
  clientId?: string;
}

/** What the router knows about one request, shared by its plugins and its data sources. */
export interface RouterContext {
  caller: Caller | null;
  /** The purpose the operation declares (the `purpose` argument of its root field). */
  purpose: string | null;
  /** What this caller may see of the child the request is about. */
  decision: AccessDecision;
  /** W3C trace id (32 hex digits) for this request. */
  traceId: string;
  /** When the whole request must be answered by (ms since epoch). */
  deadline: number;
  /** Set when the request comes through DfE's relay to the sharing endpoint: the LA's agreement has decided. */
  relay?: { organisation: string; purpose: string };
  /** The child the request is about, once the operation is read; `action` LINK when it links a record to them. */
  child?: { nhsNumber: string; breakGlassReason: string | null; breakGlassCategory?: string | null; action?: 'VIEW' | 'LINK'; receipt?: { id: string | null; digest: string | null; band: string | null; score: number | null } | null };
  /** Each search or match the operation makes (its response key), and the names of the details it was asked on. */
  lookups?: { key: string; action: 'SEARCH' | 'MATCH'; criteria: string[]; nhsNumber?: string }[];
  /** Response paths of fields withheld for the purpose or the relationship. */
  withheld?: string[];
  withheldFields?: { path: string[]; category: string; reason: 'purpose' | 'relationship' }[];
  /** Subgraphs that answered, and those that did not. */
  sources: Set<string>;
  unavailable: Set<string>;
  /** Searches a source cut short at its limit: their response keys, and the limit (answered in `extensions.moreResults`). */
  moreResults?: { fields: string[]; limit: number };
}
