// Every request about a child is audited in the LA's store before its answer leaves the router: who,
// their roles, the purpose, any break-glass reason, the child, which sources answered, which fields were
// withheld, the outcome and the trace id. If the entry cannot be written (the LA store restarting, say),
// the child's data is not sent: the answer names the audit unavailable, so the caller may try again.
// A search (`findChildren`) or a match (`matchChild`) is a read of children's data too: it is audited once
// for each child it returned, under that child's NHS number (or the local record's id when there is none),
// with what was searched on (the names of the details given, never their values).
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError, Kind, parse, print, valueFromASTUntyped, visit, type DefinitionNode, type DocumentNode, type FieldNode, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import type { AuditWriter } from '../../lib/audit/chain.ts';
import { detailsGiven } from '../../lib/audit/details.ts';
import type { RouterContext } from '../context.ts';

/** Aliases the router adds to a search or a match, so the audit knows whom it returned whatever the caller selected. */
const AUDIT_ALIAS = 'maisAudit';
const LOOKUPS: Record<string, { action: 'SEARCH' | 'MATCH'; selections: readonly SelectionNode[] }> = {
  findChildren: { action: 'SEARCH', selections: selectionsOf(`{ ${AUDIT_ALIAS}PersonId: personId ${AUDIT_ALIAS}NhsNumber: nhsNumber }`) },
  matchChild: { action: 'MATCH', selections: selectionsOf(`{ ${AUDIT_ALIAS}NhsNumber: nhsNumber ${AUDIT_ALIAS}Status: status ${AUDIT_ALIAS}Candidates: candidates { nhsNumber } }`) },
};

function selectionsOf(source: string): readonly SelectionNode[] {
  const [operation] = parse(source).definitions;
  return operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet.selections : [];
}

const rewrites = new Map<string, { document: DocumentNode; hash: string }>();

/**
 * Notes each search and match in the operation, with the names of the details it was asked on, and adds
 * to its selection whom it returns (under aliases the audit reads and takes out of the answer). Called by
 * the authorization plugin once it has rewritten the operation, if it did (plugins' hooks of one stage run
 * concurrently).
 */
export function auditLookups(requestContext: GraphQLRequestContext<RouterContext>): void {
  const { contextValue, request, document, operation } = requestContext;
  if (!document || !operation || operation.operation !== 'query') return;
  const lookups: NonNullable<RouterContext['lookups']> = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || !LOOKUPS[selection.name.value]) continue;
    let reserved = false;
    visit(selection, { Field: (node) => void (reserved ||= node.alias?.value.startsWith(AUDIT_ALIAS) === true) });
    if (reserved) {
      throw new GraphQLError(`Aliases beginning ${AUDIT_ALIAS} are kept for the audit`, { extensions: { code: 'BAD_USER_INPUT', field: selection.name.value, http: { status: 400 } } });
    }
    const input = selection.arguments?.find((a) => a.name.value === 'input');
    const value = input ? (valueFromASTUntyped(input.value, request.variables ?? {}) as Record<string, unknown> | null) : null;
    const criteria = detailsGiven(value);
    lookups.push({ key: selection.alias?.value ?? selection.name.value, action: LOOKUPS[selection.name.value]!.action, criteria });
  }
  if (lookups.length === 0) return;
  contextValue.lookups = lookups;
  const key = `${requestContext.queryHash}|${requestContext.operationName ?? ''}`;
  let rewritten = rewrites.get(key);
  if (!rewritten) {
    const withIds = (node: FieldNode): FieldNode => (LOOKUPS[node.name.value] && node.selectionSet ? { ...node, selectionSet: { ...node.selectionSet, selections: [...node.selectionSet.selections, ...LOOKUPS[node.name.value]!.selections] } } : node);
    // The operation as the document now has it (the authorization plugin may have rewritten it).
    const isOperation = (d: DefinitionNode): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === operation.name?.value;
    const definitions = document.definitions.map((d) => (isOperation(d) ? { ...d, selectionSet: { ...d.selectionSet, selections: d.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? withIds(s) : s)) } } : d));
    const next: DocumentNode = { ...document, definitions };
    rewritten = { document: next, hash: createHash('sha256').update(print(next)).digest('hex') };
    if (rewrites.size >= 1000) rewrites.clear();
    rewrites.set(key, rewritten);
  }
  // The gateway plans by the query's hash: the rewritten operation is a different query.
  const mutable = requestContext as unknown as { document: DocumentNode; queryHash: string };
  mutable.document = rewritten.document;
  mutable.queryHash = rewritten.hash;
}

interface Found {
  nhsNumber: string | null;
  personId?: string;
  status?: string;
}

/** Whom each search or match returned, taken out of the answer (the aliases were the router's, not the caller's). */
function takeFound(data: Record<string, unknown> | null | undefined, lookups: NonNullable<RouterContext['lookups']>): Map<string, Found[] | null> {
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

export function useAudit(options: { audit: AuditWriter; onWrite?: (ok: boolean) => void; onFailure?: (error: unknown) => void }): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue, errors }) {
          const { child, lookups } = contextValue;
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          // Before anything else (hooks of one stage run side by side): the audit's aliases never leave the router.
          const found = lookups ? takeFound(body?.data, lookups) : null;
          if ((!child && !found) || !contextValue.caller) return;
          const resultErrors = [...(body?.errors ?? []), ...(errors ?? [])];
          const code = (e: { extensions?: Record<string, unknown> }) => e.extensions?.code;
          const refused = resultErrors.filter((e) => code(e) === 'FORBIDDEN').map((e) => ('path' in e && e.path ? e.path.join('.') : String(e.extensions?.field ?? '')));
          const withheld = [...new Set([...(contextValue.withheld ?? []), ...refused])].sort();
          const unavailable = [...contextValue.unavailable];
          const outcome = !body?.data ? (contextValue.decision === 'NONE' ? 'DENIED' : 'ERROR') : unavailable.length > 0 || withheld.length > 0 ? 'PARTIAL' : 'OK';
          const caller = contextValue.caller;
          const lookupEntries = (lookups ?? []).flatMap((lookup) => {
            const results = found?.get(lookup.key) ?? null;
            const denied = resultErrors.some((e) => code(e) === 'FORBIDDEN' && 'path' in e && e.path?.[0] === lookup.key);
            const base = { actor: caller.username, roles: caller.roles, purpose: contextValue.purpose, break_glass_reason: null, withheld: [], trace_id: contextValue.traceId };
            const sources = { answered: [...contextValue.sources].sort(), unavailable: [...unavailable].sort(), action: lookup.action, criteria: lookup.criteria, results: results?.length ?? 0 };
            const answered = unavailable.length > 0 ? 'PARTIAL' : 'OK';
            if (!results || results.length === 0) return [{ ...base, nhs_number: null, sources, outcome: results ? answered : denied ? 'DENIED' : 'ERROR' }];
            return results.map((r) => ({ ...base, nhs_number: r.nhsNumber, sources: { ...sources, ...(r.personId ? { personId: r.personId } : {}), ...(r.status ? { status: r.status } : {}) }, outcome: answered }));
          });
          try {
            await options.audit.append([
              ...lookupEntries,
              ...(child ? [{
                actor: caller.username,
                roles: caller.roles,
                purpose: contextValue.purpose,
                // A reason is the caller's text: U+0000, which no PostgreSQL text takes, is kept as U+FFFD so the
                // attempt is still audited (the request itself is refused as BAD_USER_INPUT).
                break_glass_reason: child.breakGlassReason?.replaceAll('\u0000', '\uFFFD') ?? null,
                nhs_number: child.nhsNumber,
                sources: { answered: [...contextValue.sources].sort(), unavailable: unavailable.sort(), decision: contextValue.decision, ...(child.action === 'LINK' ? { action: 'LINK' } : {}) },
                withheld,
                outcome,
                trace_id: contextValue.traceId,
              }] : []),
            ]);
            options.onWrite?.(true);
          } catch (error) {
            options.onWrite?.(false);
            options.onFailure?.(error);
            if (body) {
              body.data = null;
              body.errors = [{ message: 'The request could not be audited, so no data is returned', extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } }];
            }
          }
        },
      };
    },
  };
}
