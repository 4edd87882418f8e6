// Reads the purpose an operation declares (the `purpose` argument of the root fields it executes) into
// the request's context, so every hop can carry it: one purpose per request. Where the router decides
// (every mode but insecure-dev), the authorization plugin reads it as it decides.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
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
          contextValue.purpose = declaredPurpose(executedFields(schema, document, operation, request.variables ?? {}).fields);
        },
      };
    },
  };
}
