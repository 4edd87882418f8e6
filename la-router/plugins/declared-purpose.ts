// Reads the purpose an operation declares (the `purpose` argument of the root fields it executes) into
// the request's context, so every hop can carry it: one purpose per request; and the child it is about,
// which every internal token is bound to. Where the router decides (every mode but insecure-dev), the
// policy (policy.ts) reads both as it decides.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { normaliseNhsNumber } from '../../lib/nhs-number.ts';
import type { RouterContext } from '../context.ts';
import { executedFields, type ExecutedField } from './executed.ts';

/** The one purpose the executed root fields declare, or null; more than one is refused. */
export function declaredPurpose(fields: readonly ExecutedField[]): string | null {
  const purposes = new Set(fields.map((f) => f.args.purpose).filter((p): p is string => typeof p === 'string'));
  if (purposes.size > 1) throw new GraphQLError('One request declares one purpose', { extensions: { code: 'BAD_USER_INPUT', field: 'purpose', http: { status: 400 } } });
  return [...purposes][0] ?? null;
}

export function useDeclaredPurpose(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, contextValue, schema }) {
          if (!operation || !document) return;
          const { fields } = executedFields(schema, document, operation, request.variables ?? {});
          contextValue.purpose = declaredPurpose(fields);
          const children = fields.filter((f) => f.name === 'child');
          // More than one child: no token names either, so the LA's subgraphs answer neither.
          if (children.length === 1 && typeof children[0]!.args.nhsNumber === 'string') contextValue.child = { nhsNumber: normaliseNhsNumber(children[0]!.args.nhsNumber), breakGlassReason: null };
        },
      };
    },
  };
}
