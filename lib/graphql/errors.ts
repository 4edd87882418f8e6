// GraphQL errors at the edge: each with a stable `extensions.code` (CONTRACT.md), never a stack trace.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isPurpose } from '../purposes.ts';

export const badUserInput = (message: string, field: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });

/** The purpose an organisation declared in the MAIS-Purpose header, checked: BAD_USER_INPUT when it is missing or not a Purpose. */
export function declaredPurpose(header: string | null): string {
  if (!header) throw badUserInput('State the purpose in the MAIS-Purpose header', 'MAIS-Purpose');
  if (!isPurpose(header)) throw badUserInput('The MAIS-Purpose header is not one of the Purpose values', 'MAIS-Purpose');
  return header;
}

export const sourceUnavailable = (source: string, message = `${source} is unavailable`) =>
  new GraphQLError(message, { extensions: { code: 'SOURCE_UNAVAILABLE', source } });

const CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'INVALID_NHS_NUMBER', 'SOURCE_UNAVAILABLE', 'RATE_LIMITED', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

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
