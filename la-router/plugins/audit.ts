// Every request about a child is audited in the LA's store before its answer leaves the router: who,
// their roles, the purpose, any break-glass reason, the child, which sources answered, which fields were
// withheld, the outcome and the trace id. If the entry cannot be written (the LA store restarting, say),
// the child's data is not sent: the answer names the audit unavailable, so the caller may try again.
// A search (`findChildren`) or a match (`matchChild`) is a read of children's data too: it is audited once
// for each child it returned, under that child's NHS number (or the local record's id when there is none),
// with what was searched on (the names of the details given, never their values).
import { visibleReason } from '../break-glass.ts';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type FieldNode, type GraphQLFormattedError, type SelectionNode } from 'graphql';
import type { AuditWriter } from '../../lib/audit/chain.ts';
import { detailsGiven } from '../../lib/audit/details.ts';
import { normaliseNhsNumber } from '../../lib/nhs-number.ts';
import type { RouterContext } from '../context.ts';
import type { Executed } from './executed.ts';

/** Aliases the router adds to a search or a match, so the audit knows whom it returned whatever the caller selected. */
const AUDIT_ALIAS = 'maisAudit';
const LOOKUPS: Record<string, { action: 'SEARCH' | 'MATCH'; selections: readonly SelectionNode[] }> = {
  findChildren: { action: 'SEARCH', selections: selectionsOf(`{ ${AUDIT_ALIAS}PersonId: personId ${AUDIT_ALIAS}NhsNumber: nhsNumber }`) },
  matchChild: { action: 'MATCH', selections: selectionsOf(`{ ${AUDIT_ALIAS}NhsNumber: nhsNumber ${AUDIT_ALIAS}Status: status ${AUDIT_ALIAS}Candidates: candidates { nhsNumber } }`) },
};

/** The root fields audited for each child they return. */
export const isLookup = (field: string): boolean => Object.hasOwn(LOOKUPS, field);

function selectionsOf(source: string): readonly SelectionNode[] {
  const [operation] = parse(source).definitions;
  return operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet.selections : [];
}

/** Each search and match the executed operation makes, by response key, with the names of the details it was asked on. */
export function lookupsOf(executed: Executed): NonNullable<RouterContext['lookups']> {
  return executed.fields
    .filter((f) => LOOKUPS[f.name])
    .map((f) => {
      const input = (f.args.input as Record<string, unknown> | null | undefined) ?? null;
      // A search by NHS number is about that child, whatever it returns.
      const nhsNumber = typeof input?.nhsNumber === 'string' && input.nhsNumber.trim() !== '' ? normaliseNhsNumber(input.nhsNumber) : undefined;
      return { key: f.key, action: LOOKUPS[f.name]!.action, criteria: detailsGiven(input), ...(nhsNumber ? { nhsNumber } : {}) };
    });
}

/**
 * The operation (its root fields written out, as the policy hands it on) with whom each search and match
 * returns added to its selection, under aliases the audit reads and takes out of the answer. Refuses an
 * operation that uses those aliases itself.
 */
export function withAuditIdentifiers(document: DocumentNode): DocumentNode {
  const [operation, ...rest] = document.definitions;
  if (operation?.kind !== Kind.OPERATION_DEFINITION || rest.length > 0) throw new Error('the policy hands on one operation with its root fields written out');
  const selections = operation.selectionSet.selections.map((s) => {
    if (s.kind !== Kind.FIELD || !LOOKUPS[s.name.value] || !s.selectionSet) return s;
    let reserved = false;
    visit(s, { Field: (node) => void (reserved ||= node.alias?.value.startsWith(AUDIT_ALIAS) === true) });
    if (reserved) throw new GraphQLError(`Aliases beginning ${AUDIT_ALIAS} are kept for the audit`, { extensions: { code: 'BAD_USER_INPUT', field: s.name.value, http: { status: 400 } } });
    return { ...s, selectionSet: { ...s.selectionSet, selections: [...s.selectionSet.selections, ...LOOKUPS[s.name.value]!.selections] } } satisfies FieldNode;
  });
  return { ...document, definitions: [{ ...operation, selectionSet: { ...operation.selectionSet, selections } }] };
}

export interface Found {
  nhsNumber: string | null;
  personId?: string;
  status?: string;
}

/** Whom each search or match returned, taken out of the answer (the aliases were the router's, not the caller's). */
export function takeFound(data: Record<string, unknown> | null | undefined, lookups: NonNullable<RouterContext['lookups']>): Map<string, Found[] | null> {
  const found = new Map<string, Found[] | null>();
  const take = (item: Record<string, unknown>, name: string): unknown => {
    const value = item[`${AUDIT_ALIAS}${name}`];
    delete item[`${AUDIT_ALIAS}${name}`];
    return value;
  };
  for (const lookup of lookups) {
    const value = data?.[lookup.key];
    if (value === null || value === undefined) {
      found.set(lookup.key, null);
    } else if (Array.isArray(value)) {
      found.set(lookup.key, (value as Record<string, unknown>[]).filter(Boolean).map((item) => ({ personId: take(item, 'PersonId') as string, nhsNumber: (take(item, 'NhsNumber') as string | null) ?? null })));
    } else {
      const item = value as Record<string, unknown>;
      const best = take(item, 'NhsNumber') as string | null;
      const status = take(item, 'Status') as string;
      const candidates = ((take(item, 'Candidates') as { nhsNumber: string }[] | null) ?? []).map((c) => c.nhsNumber);
      found.set(lookup.key, [...new Set([...(best ? [best] : []), ...candidates])].map((nhsNumber) => ({ nhsNumber, status })));
    }
  }
  return found;
}

/**
 * Writes the request's audit entries: one for the child it was about, one for each child a search or
 * match returned. If they cannot be written, the answer carries no data and says the audit is unavailable.
 */
export async function writeAudit(
  audit: AuditWriter,
  contextValue: RouterContext,
  body: { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] } | null,
  errors: readonly GraphQLError[] | undefined,
  found: Map<string, Found[] | null> | null,
): Promise<{ written: boolean; error?: unknown }> {
  const { child, lookups, caller } = contextValue;
  if ((!child && !found) || !caller) return { written: false };
  const resultErrors = [...(body?.errors ?? []), ...(errors ?? [])];
  const code = (e: { extensions?: Record<string, unknown> }) => e.extensions?.code;
  const refused = resultErrors.filter((e) => code(e) === 'FORBIDDEN').map((e) => ('path' in e && e.path ? e.path.join('.') : String(e.extensions?.field ?? '')));
  const withheld = [...new Set([...(contextValue.withheld ?? []), ...refused])].sort();
  const unavailable = [...contextValue.unavailable];
  const outcome = !body?.data ? (contextValue.decision === 'NONE' ? 'DENIED' : 'ERROR') : unavailable.length > 0 || withheld.length > 0 ? 'PARTIAL' : 'OK';
  const lookupEntries = (lookups ?? []).flatMap((lookup) => {
    const results = found?.get(lookup.key) ?? null;
    const denied = resultErrors.some((e) => code(e) === 'FORBIDDEN' && 'path' in e && e.path?.[0] === lookup.key);
    const base = { actor: caller.username, roles: caller.roles, purpose: contextValue.purpose, break_glass_reason: null, withheld: [], trace_id: contextValue.traceId };
    const sources = { answered: [...contextValue.sources].sort(), unavailable: [...unavailable].sort(), action: lookup.action, criteria: lookup.criteria, results: results?.length ?? 0 };
    const answered = unavailable.length > 0 ? 'PARTIAL' : 'OK';
    if (!results || results.length === 0) return [{ ...base, nhs_number: lookup.nhsNumber ?? null, sources, outcome: results ? answered : denied ? 'DENIED' : 'ERROR' }];
    return results.map((r) => ({ ...base, nhs_number: r.nhsNumber, sources: { ...sources, ...(r.personId ? { personId: r.personId } : {}), ...(r.status ? { status: r.status } : {}) }, outcome: answered }));
  });
  try {
    await audit.append([
      ...lookupEntries,
      ...(child
        ? [
            {
              actor: caller.username,
              roles: caller.roles,
              purpose: contextValue.purpose,
              // A reason is kept as a person sees it (NUL, controls, format characters and fillers taken
              // out), so a refused attempt is still audited and the report shows no invisible text.
              break_glass_reason: child.breakGlassReason === null ? null : visibleReason(child.breakGlassReason),
              nhs_number: child.nhsNumber,
              sources: { answered: [...contextValue.sources].sort(), unavailable: unavailable.sort(), decision: contextValue.decision, ...(child.breakGlassCategory ? { breakGlassCategory: child.breakGlassCategory } : {}), ...(child.action === 'LINK' ? { action: 'LINK', receipt: child.receipt ?? null } : {}) },
              withheld,
              outcome,
              trace_id: contextValue.traceId,
            },
          ]
        : []),
    ]);
    return { written: true };
  } catch (error) {
    if (body) {
      body.data = null;
      body.errors = [{ message: 'The request could not be audited, so no data is returned', extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } }];
    }
    return { written: false, error };
  }
}
