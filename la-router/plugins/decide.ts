// The policy's decide step: from what an operation executes, the purpose, the one child it is about and
// what the caller may see of them (the decision every internal token carries to the subgraphs, which
// check it again). A request for a child that the caller may see nothing of is refused whole.
import { GraphQLError } from 'graphql';
import { isSocialCareStaff, maySearch, searchProblem, SEARCH_ROLES } from '../../lib/graphql/access.ts';
import { unverifiedReceipt } from '../../lib/match-receipt.ts';
import { normaliseNhsNumber } from '../../lib/nhs-number.ts';
import type { RouterContext } from '../context.ts';
import { decide, type AllocationIndex } from '../relationships.ts';
import { isLookup } from './audit.ts';
import { declaredPurpose } from './declared-purpose.ts';
import type { Executed } from './executed.ts';
import type { AccessDecision } from '../../lib/internal-token.ts';

const LINK = 'linkNhsNumber';
/** Root fields other than `child` that answer with children's data. */
const CHILDREN_DATA = new Set(['findChildren', 'matchChild', 'auditTrail', 'breakGlassReport']);

export interface DecideOptions {
  allocations: Pick<AllocationIndex, 'isAllocated'>;
  exposedRootFields: readonly string[];
  /** Whether PDS restricts the child's record, as MATCH last told the LA: a summary then shows no `find.*`. */
  restrictions?: { isRestricted(nhsNumber: string): Promise<boolean> };
}

/** What the policy decided for one request: the purpose, the child it is about and the decision, or the searches it makes. */
export interface Decided {
  purpose: string | null;
  child?: NonNullable<RouterContext['child']>;
  decision: AccessDecision;
  /** True when the request reads no child but searches or matches (audited for each child returned). */
  lookups: boolean;
}

/**
 * Decides on what the operation executes: every root field open to caseworkers at this router, one
 * purpose, and at most one child, alone, whose decision is the caller's for that child. Throws the
 * refusal (FORBIDDEN or BAD_USER_INPUT) for anything else, before any source is called.
 */
export function decideRequest(executed: Executed, context: Pick<RouterContext, 'caller' | 'relay'>, options: DecideOptions): Decided {
  const caller = context.caller!;
  const exposed = new Set([...options.exposedRootFields, '__typename']);
  const purpose = declaredPurpose(executed.fields);
  for (const field of executed.fields) {
    const allowed = executed.operation === 'mutation' ? field.name === LINK && exposed.has(LINK) : executed.operation === 'query' && exposed.has(field.name);
    if (!allowed) {
      const name = executed.operation === 'subscription' ? executed.operation : field.name;
      throw new GraphQLError(`${name} is not open to caseworkers at this router`, { extensions: { code: 'FORBIDDEN', field: name, http: { status: 403 } } });
    }
  }
  // Searches and matches, wherever they are written: for the roles that act on children, and only
  // on a name with a date of birth.
  for (const field of executed.fields) {
    if (!(field.name in SEARCH_ROLES)) continue;
    const search = field.name as keyof typeof SEARCH_ROLES;
    if (!maySearch(search, caller.roles)) {
      throw new GraphQLError(`${search} is not open to this role`, { extensions: { code: 'FORBIDDEN', field: search, http: { status: 403 } } });
    }
    const problem = searchProblem(field.args.input as Parameters<typeof searchProblem>[0]);
    if (problem) throw new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', field: search, http: { status: 400 } } });
  }
  if (executed.operation === 'mutation') {
    // Linking a record to a child's NHS number: social care staff only, one link a request, audited.
    const [link] = executed.fields;
    if (executed.fields.length !== 1 || !link) throw new GraphQLError('One request links one record', { extensions: { code: 'BAD_USER_INPUT', field: LINK, http: { status: 400 } } });
    if (!isSocialCareStaff(caller.roles)) throw new GraphQLError('Only social care staff may link a record to an NHS number', { extensions: { code: 'FORBIDDEN', field: LINK, http: { status: 403 } } });
    const input = link.args.input as { nhsNumber?: unknown; receipt?: unknown } | null | undefined;
    // MATCH's receipt, read for the audit (its id, digest, band and score); the csc subgraph checks it before it links.
    const receipt = unverifiedReceipt(input?.receipt);
    return { purpose, child: { nhsNumber: normaliseNhsNumber(String(input?.nhsNumber ?? '')), breakGlassReason: null, action: 'LINK', receipt }, decision: 'SUMMARY', lookups: false };
  }
  const children = executed.fields.filter((f) => f.name === 'child');
  if (children.length === 0) return { purpose, decision: 'NONE', lookups: executed.fields.some((f) => isLookup(f.name)) };
  if (children.length > 1) throw new GraphQLError('One request asks for one child', { extensions: { code: 'BAD_USER_INPUT', field: 'child', http: { status: 400 } } });
  // A request about a child is about that child alone: its audit entry is the whole of what it read.
  const other = executed.fields.find((f) => CHILDREN_DATA.has(f.name));
  if (other) throw new GraphQLError(`A request for a child asks for nothing else about children (${other.name})`, { extensions: { code: 'BAD_USER_INPUT', field: other.name, http: { status: 400 } } });
  const { args } = children[0]!;
  const reason = args.breakGlassReason;
  const category = args.breakGlassCategory;
  return {
    purpose,
    child: { nhsNumber: normaliseNhsNumber(String(args.nhsNumber ?? '')), breakGlassReason: typeof reason === 'string' ? reason : null, breakGlassCategory: typeof category === 'string' ? category : null },
    decision: 'NONE',
    lookups: false,
  };
}

/** The caller's decision for the request's child (throws a refusal for a thin break-glass reason); through the sharing endpoint, the LA's agreement has decided already. */
export async function decisionFor(decided: Decided, context: Pick<RouterContext, 'caller' | 'relay'>, options: DecideOptions): Promise<AccessDecision> {
  if (!decided.child || decided.child.action === 'LINK') return decided.decision;
  const decision = context.relay ? 'FULL' : await decide(options.allocations, context.caller!, decided.child.nhsNumber, decided.child.breakGlassReason, decided.child.breakGlassCategory ?? null);
  if (decision === 'NONE') throw new GraphQLError('This role may not see children’s records', { extensions: { code: 'FORBIDDEN', field: 'child', http: { status: 403 } } });
  return decision;
}
