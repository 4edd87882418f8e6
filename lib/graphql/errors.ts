// GraphQL errors at the edge: each with a stable `extensions.code` (CONTRACT.md), never a stack trace.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, visit, type GraphQLFormattedError } from 'graphql';
import { isPurpose } from '../purposes.ts';

export const badUserInput = (message: string, field: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
export const forbidden = (message: string, field: string) => new GraphQLError(message, { extensions: { code: 'FORBIDDEN', field } });

/** The purpose an organisation declared in the MAIS-Purpose header, checked: BAD_USER_INPUT when it is missing or not a Purpose. */
export function declaredPurpose(header: string | null): string {
  if (!header) throw badUserInput('State the purpose in the MAIS-Purpose header', 'MAIS-Purpose');
  if (!isPurpose(header)) throw badUserInput('The MAIS-Purpose header is not one of the Purpose values', 'MAIS-Purpose');
  return header;
}

export const sourceUnavailable = (source: string, message = `${source} is unavailable`) =>
  new GraphQLError(message, { extensions: { code: 'SOURCE_UNAVAILABLE', source } });

/** Every error code an answer may carry (CONTRACT.md), besides INTERNAL_SERVER_ERROR. */
export const CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'INVALID_NHS_NUMBER', 'SOURCE_UNAVAILABLE', 'RATE_LIMITED', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

/**
 * Keeps errors that carry a known code (a scalar's INVALID_NHS_NUMBER survives variable coercion),
 * and turns anything else into a bare INTERNAL_SERVER_ERROR: no message from inside, no stack.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = (error as { originalError?: unknown })?.originalError;
  const originalCode = original instanceof GraphQLError ? (original.extensions?.code as string | undefined) : undefined;
  if (originalCode && CODES.has(originalCode)) {
    return { message: (original as GraphQLError).message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}), extensions: { ...(original as GraphQLError).extensions } };
  }
  const code = formatted.extensions?.code as string | undefined;
  if (code && CODES.has(code)) {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** Whether any string in a JSON value holds U+0000 (walked without recursion: variables may nest deeply). */
function holdsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return true;
    } else if (next && typeof next === 'object') {
      for (const [key, inner] of Object.entries(next)) {
        if (key.includes('\u0000')) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/**
 * Refuses, before execution, a document with no operation to run (a name that is not in it, or several
 * operations and no name) and an operation of a kind the schema does not serve (a subscription): graphql-js
 * would fail them at execution, which reaches callers as INTERNAL_SERVER_ERROR. And text holding U+0000, which
 * no PostgreSQL text column takes.
 */
export function useOperationChecks(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request, schema, document }) {
          if (!operation) {
            const message = request.operationName ? `The document has no operation named ${request.operationName}` : 'The document has several operations: name the one to run';
            throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
          }
          // PostgreSQL's text cannot hold U+0000: refused here by name rather than by the store.
          let inDocument = false;
          visit(document, { StringValue: (node) => void (inDocument ||= node.value.includes('\u0000')) });
          if (inDocument || holdsNul(request.variables)) {
            throw new GraphQLError('Text may not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
          }
          const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
          if (!root) throw new GraphQLError(`This service does not serve ${operation.operation}s`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
        },
      };
    },
  };
}
