// Decides, before execution, what the caseworker may see of the child the operation asks for, and puts
// the decision in the request's context, where every internal token carries it to the subgraphs (which
// check it again). A request for a child that the caseworker may see nothing of is refused whole.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, valueFromASTUntyped } from 'graphql';
import { isSocialCareStaff } from '../../lib/graphql/access.ts';
import { normaliseNhsNumber } from '../../lib/nhs-number.ts';
import type { RouterContext } from '../context.ts';
import { decide, type AllocationIndex } from '../relationships.ts';
import { auditLookups } from './audit.ts';
import { minimiseOperation, type MinimiseOptions } from './minimise.ts';

const LINK = 'linkNhsNumber';

export function useAuthorize(options: { allocations: Pick<AllocationIndex, 'isAllocated'>; exposedRootFields: readonly string[]; minimise: MinimiseOptions }): ApolloServerPlugin<RouterContext> {
  const exposed = new Set([...options.exposedRootFields, '__typename']);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { operation, request, contextValue } = requestContext;
          if (!operation || !contextValue.caller) return;
          for (const selection of operation.selectionSet.selections) {
            const allowed = operation.operation === 'mutation' ? selection.kind === Kind.FIELD && selection.name.value === LINK && exposed.has(LINK) : operation.operation === 'query' && (selection.kind !== Kind.FIELD || exposed.has(selection.name.value));
            if (!allowed) {
              const name = selection.kind === Kind.FIELD ? selection.name.value : operation.operation;
              throw new GraphQLError(`${name} is not open to caseworkers at this router`, { extensions: { code: 'FORBIDDEN', field: name, http: { status: 403 } } });
            }
          }
          if (operation.operation === 'mutation') {
            // Linking a record to a child's NHS number: social care staff only, one link a request, audited.
            const [link] = operation.selectionSet.selections;
            if (operation.selectionSet.selections.length !== 1 || link?.kind !== Kind.FIELD) throw new GraphQLError('One request links one record', { extensions: { code: 'BAD_USER_INPUT', field: LINK, http: { status: 400 } } });
            if (!isSocialCareStaff(contextValue.caller.roles)) throw new GraphQLError('Only social care staff may link a record to an NHS number', { extensions: { code: 'FORBIDDEN', field: LINK, http: { status: 403 } } });
            const input = link.arguments?.find((a) => a.name.value === 'input');
            const value = input ? (valueFromASTUntyped(input.value, request.variables ?? {}) as { nhsNumber?: unknown } | null) : null;
            contextValue.child = { nhsNumber: normaliseNhsNumber(String(value?.nhsNumber ?? '')), breakGlassReason: null, action: 'LINK' };
            contextValue.decision = 'SUMMARY';
            return;
          }
          const children = operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD && s.name.value === 'child');
          if (children.length === 0) return auditLookups(requestContext);
          if (children.length > 1) throw new GraphQLError('One request asks for one child', { extensions: { code: 'BAD_USER_INPUT', field: 'child', http: { status: 400 } } });
          const field = children[0]!;
          if (field.kind !== Kind.FIELD) return;
          const argument = (name: string) => {
            const node = field.arguments?.find((a) => a.name.value === name);
            return node ? valueFromASTUntyped(node.value, request.variables ?? {}) : null;
          };
          const nhsNumber = normaliseNhsNumber(String(argument('nhsNumber') ?? ''));
          const reason = argument('breakGlassReason');
          contextValue.child = { nhsNumber, breakGlassReason: typeof reason === 'string' ? reason : null };
          // Through the sharing endpoint, the LA's data sharing agreement has decided already.
          contextValue.decision = contextValue.relay ? 'FULL' : await decide(options.allocations, contextValue.caller, nhsNumber, contextValue.child.breakGlassReason);
          if (contextValue.decision === 'NONE') {
            throw new GraphQLError('This role may not see children’s records', { extensions: { code: 'FORBIDDEN', field: 'child', http: { status: 403 } } });
          }
          minimiseOperation(requestContext, options.minimise);
          auditLookups(requestContext);
        },
      };
    },
  };
}
