// Decides, before execution, what the caseworker may see of the child the operation asks for, and puts
// the decision in the request's context, where every internal token carries it to the subgraphs (which
// check it again). A request for a child that the caseworker may see nothing of is refused whole.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { isSocialCareStaff } from '../../lib/graphql/access.ts';
import { normaliseNhsNumber } from '../../lib/nhs-number.ts';
import type { RouterContext } from '../context.ts';
import { decide, type AllocationIndex } from '../relationships.ts';
import { auditLookups } from './audit.ts';
import { declaredPurpose } from './declared-purpose.ts';
import { executedFields } from './executed.ts';
import { minimiseOperation, type MinimiseOptions } from './minimise.ts';

const LINK = 'linkNhsNumber';
/** Root fields other than `child` that answer with children's data. */
const CHILDREN_DATA = new Set(['findChildren', 'matchChild', 'auditTrail', 'breakGlassReport']);

export function useAuthorize(options: { allocations: Pick<AllocationIndex, 'isAllocated'>; exposedRootFields: readonly string[]; minimise: MinimiseOptions }): ApolloServerPlugin<RouterContext> {
  const exposed = new Set([...options.exposedRootFields, '__typename']);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { operation, request, contextValue, schema } = requestContext;
          if (!operation || !requestContext.document || !contextValue.caller) return;
          // What will execute, however the operation spells it (fragments, directives, variables' defaults).
          const executed = executedFields(schema, requestContext.document, operation, request.variables ?? {});
          if (executed.document) {
            // The gateway plans by the query's hash: the operation in its executed shape is a different query.
            const mutable = requestContext as unknown as { document: DocumentNode; queryHash: string; operation: OperationDefinitionNode };
            mutable.document = executed.document.document;
            mutable.queryHash = executed.document.hash;
            mutable.operation = executed.document.document.definitions[0] as OperationDefinitionNode;
          }
          contextValue.purpose = declaredPurpose(executed.fields);
          for (const field of executed.fields) {
            const allowed = executed.operation === 'mutation' ? field.name === LINK && exposed.has(LINK) : executed.operation === 'query' && exposed.has(field.name);
            if (!allowed) {
              const name = executed.operation === 'subscription' ? executed.operation : field.name;
              throw new GraphQLError(`${name} is not open to caseworkers at this router`, { extensions: { code: 'FORBIDDEN', field: name, http: { status: 403 } } });
            }
          }
          if (executed.operation === 'mutation') {
            // Linking a record to a child's NHS number: social care staff only, one link a request, audited.
            const [link] = executed.fields;
            if (executed.fields.length !== 1 || !link) throw new GraphQLError('One request links one record', { extensions: { code: 'BAD_USER_INPUT', field: LINK, http: { status: 400 } } });
            if (!isSocialCareStaff(contextValue.caller.roles)) throw new GraphQLError('Only social care staff may link a record to an NHS number', { extensions: { code: 'FORBIDDEN', field: LINK, http: { status: 403 } } });
            const input = link.args.input as { nhsNumber?: unknown } | null | undefined;
            contextValue.child = { nhsNumber: normaliseNhsNumber(String(input?.nhsNumber ?? '')), breakGlassReason: null, action: 'LINK' };
            contextValue.decision = 'SUMMARY';
            return;
          }
          const children = executed.fields.filter((f) => f.name === 'child');
          if (children.length === 0) return auditLookups(requestContext);
          if (children.length > 1) throw new GraphQLError('One request asks for one child', { extensions: { code: 'BAD_USER_INPUT', field: 'child', http: { status: 400 } } });
          // A request about a child is about that child alone: its audit entry is the whole of what it read.
          const other = executed.fields.find((f) => CHILDREN_DATA.has(f.name));
          if (other) throw new GraphQLError(`A request for a child asks for nothing else about children (${other.name})`, { extensions: { code: 'BAD_USER_INPUT', field: other.name, http: { status: 400 } } });
          const { args } = children[0]!;
          const nhsNumber = normaliseNhsNumber(String(args.nhsNumber ?? ''));
          const reason = args.breakGlassReason;
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
