// The common scalars of schema/common.graphql, with the stable error codes CONTRACT.md names.
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { dayOf, isoDay } from '../dates.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../nhs-number.ts';

function parseNhsNumber(value: unknown): string {
  if (typeof value !== 'string') throw new GraphQLError('An NHS number must be a string of ten digits', { extensions: { code: 'INVALID_NHS_NUMBER' } });
  const digits = normaliseNhsNumber(value);
  if (!isValidNhsNumber(digits)) {
    throw new GraphQLError('Not a valid NHS number: it must be ten digits with a correct modulus 11 check digit', { extensions: { code: 'INVALID_NHS_NUMBER' } });
  }
  return digits;
}

export const NhsNumber = new GraphQLScalarType<string, string>({
  name: 'NhsNumber',
  description: 'Ten digits with a modulus 11 check digit.',
  serialize: (value) => String(value),
  parseValue: parseNhsNumber,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('An NHS number must be a string of ten digits', { extensions: { code: 'INVALID_NHS_NUMBER' } });
    return parseNhsNumber(ast.value);
  },
});

function parseDate(value: unknown): string {
  const day = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? dayOf(value) : Number.NaN;
  if (!Number.isFinite(day) || isoDay(day) !== value) {
    throw new GraphQLError('A date must be a real calendar date written yyyy-mm-dd', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'ISO 8601 calendar date, yyyy-mm-dd.',
  serialize: (value) => String(value),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('A date must be a string, yyyy-mm-dd', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});
