// Reads the purpose an operation declares (the `purpose` argument of its root fields) into the request's
// context, so every hop can carry it: one purpose per request.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, valueFromASTUntyped, type OperationDefinitionNode } from 'graphql';
import type { RouterContext } from '../context.ts';

export function purposesOf(operation: OperationDefinitionNode, variables: Record<string, unknown> = {}): Set<string> {
  const purposes = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const argument = selection.arguments?.find((a) => a.name.value === 'purpose');
    if (!argument) continue;
    const value = valueFromASTUntyped(argument.value, variables);
    if (typeof value === 'string') purposes.add(value);
  }
  return purposes;
}

export function useDeclaredPurpose(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request, contextValue }) {
          const purposes = operation ? purposesOf(operation, request.variables ?? {}) : new Set<string>();
          if (purposes.size > 1) {
            throw new GraphQLError('One request declares one purpose', { extensions: { code: 'BAD_USER_INPUT', field: 'purpose', http: { status: 400 } } });
          }
          contextValue.purpose = [...purposes][0] ?? null;
        },
      };
    },
  };
}
